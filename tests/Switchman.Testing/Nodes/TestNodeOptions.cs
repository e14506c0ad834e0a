using Microsoft.Extensions.Logging;
using Switchman.Core.Configuration;
using Switchman.Vips;

namespace Switchman.Testing;

/// <summary>How a <see cref="SwitchmanTestNode"/> starts; the defaults suit most tests.</summary>
public sealed record TestNodeOptions
{
    /// <summary>Put before every line the node writes to the test output (e.g. "n1 " when a test runs several).</summary>
    public string LogPrefix { get; init; } = "";

    /// <summary>The lowest level kept in <see cref="SwitchmanTestNode.Logs"/> (the test output shows Information and above).</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>Which admin tokens the node accepts (a node started from a configuration; a file says its own).</summary>
    public TestTokenSources Tokens { get; init; } = TestTokenSources.Hashed;

    /// <summary>
    /// Changes the admin section after the fixture filled it in (listener on loopback port 0, <see cref="Tokens"/>), e.g.
    /// to add TLS with a certificate written into the node's directory (the first argument).
    /// </summary>
    public Func<string, AdminConfig, AdminConfig>? Admin { get; init; }

    /// <summary>Writes the configuration to switchman.yaml in the node's directory and starts from it, so reloads read it.</summary>
    public bool WriteFile { get; init; }

    /// <summary>Returns from start only once the first round of health checks is done (each server's health is known).</summary>
    public bool WaitForFirstHealthRound { get; init; }

    /// <summary>
    /// What the node's VIP keeper uses to add, remove and announce addresses; null: the host's own interfaces, which it
    /// changes (never give such a node a VIP on a real interface; an interface
    /// that does not exist, such as <c>nosuch0</c>, only makes it fail). <see cref="NoOpVipTools"/> succeeds without
    /// touching anything, so a node alone "holds" its VIPs.
    /// </summary>
    public ILinkOperations? VipTools { get; init; }

    /// <summary>Every add, remove and announcement succeeds and nothing changes (the guard runs <c>true</c> in place of <c>ip</c>).</summary>
    public static ILinkOperations NoOpVipTools => new NoOpLinkOperations();
}
