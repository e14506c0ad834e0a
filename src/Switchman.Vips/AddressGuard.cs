using Switchman.Core.Configuration;
using Switchman.Supervisor.Processes;

namespace Switchman.Vips;

/// <summary>
/// The dead man's switch of one VIP on this node: a <see cref="DeadlineGuard"/> whose action removes the address.
/// This process renews it with how long its right to hold the VIP lasts at most (its lease); when that passes without a
/// renewal (this process is frozen or starved past its lease), or this process dies, the guard removes the address.
/// Without it a crashed or frozen holder's kernel would keep answering ARP for the VIP while another node holds it
/// (keepalived has that problem). Started and armed (given its first deadline) <b>before</b> the address is added, so
/// that the address is never on the interface unguarded; disarmed when this process removes it.
/// </summary>
public sealed class AddressGuard : IAsyncDisposable
{
    private readonly DeadlineGuard _guard;

    private AddressGuard(DeadlineGuard guard) => _guard = guard;

    public int Pid => _guard.Pid;

    /// <summary>Starts the guard of <paramref name="vip"/> on <paramref name="device"/>, removed with <paramref name="ipCommandLine"/> (<c>ip</c>, with its namespace option).</summary>
    /// <exception cref="VipHostException">The guard could not be started.</exception>
    public static AddressGuard Start(IReadOnlyList<string> ipCommandLine, VipAddress vip, string device, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(ipCommandLine);
        ArgumentNullException.ThrowIfNull(vip);
        try
        {
            return new AddressGuard(DeadlineGuard.Start("switchman-vip-guard", [.. ipCommandLine, "addr", "del", vip.ToString(), "dev", device], environment: null, time))
            {
                Where = $"{vip}@{device}",
            };
        }
        catch (GuardStartException e)
        {
            throw new VipHostException(e.Message);
        }
    }

    /// <inheritdoc cref="DeadlineGuard.RealTimeRefused"/>
    public string? RealTimeRefused => _guard.RealTimeRefused;

    /// <summary>Whether the guard has ended: it removed the address (its deadline passed), or was disarmed.</summary>
    public bool HasExited => _guard.HasExited;

    /// <inheritdoc cref="DeadlineGuard.Renew(TimeSpan, GuardInstant)"/>
    public void Renew(TimeSpan remaining, GuardInstant asOf) => _guard.Renew(remaining, asOf);

    /// <inheritdoc cref="DeadlineGuard.RenewAsync(TimeSpan, GuardInstant)"/>
    public Task RenewAsync(TimeSpan remaining, GuardInstant asOf) => _guard.RenewAsync(remaining, asOf);

    /// <summary>The address this guard removes, and from which interface.</summary>
    public string Where { get; private init; } = "";

    /// <summary>This process removed the address itself: the guard exits without touching it.</summary>
    public ValueTask DisposeAsync() => _guard.DisposeAsync();
}
