using Switchman.Admin;
using Switchman.Core.Configuration;

namespace Switchman.Testing;

/// <summary>Which admin tokens a <see cref="SwitchmanTestNode"/> started from a configuration accepts.</summary>
public enum TestTokenSources
{
    /// <summary><c>ops</c> (admin) and <c>viewer</c> (read), both declared by their SHA-256, as an operator would.</summary>
    Hashed,

    /// <summary>
    /// One token from each source: <c>ops</c> (admin, SHA-256), <c>viewer</c> (read, from the file viewer.token in the
    /// node's directory) and <c>ci</c> (admin, from the environment variable <see cref="TestTokens.CiVariable"/>).
    /// </summary>
    EverySource,

    /// <summary>admin.tokens empty, as in a fresh install: every API request is refused.</summary>
    None,
}

/// <summary>The admin tokens of every test node and test cluster: one set, so any test client can talk to any node.</summary>
public static class TestTokens
{
    public const string AdminToken = "ops-token-6d1f0c27a4e8";
    public const string ReadToken = "viewer-token-b83e5a91c2d7";
    public const string CiToken = "ci-token-4f09d6e2b1a3";

    /// <summary>The variable <see cref="TestTokenSources.EverySource"/> reads <see cref="CiToken"/> from; set for the whole test run.</summary>
    public const string CiVariable = "SWITCHMAN_TEST_CI_TOKEN_TESTS";

    public static IReadOnlyList<string> All => [AdminToken, ReadToken, CiToken];

    /// <summary>The tokens section for <paramref name="sources"/>; writes viewer.token into <paramref name="directory"/> when needed.</summary>
    public static ValueList<AdminTokenConfig> For(TestTokenSources sources, TempDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        switch (sources)
        {
            case TestTokenSources.Hashed:
                return ValueList.Create(
                    new AdminTokenConfig { Name = "ops", Role = AdminRole.Admin, Sha256 = Sha256Hex(AdminToken) },
                    new AdminTokenConfig { Name = "viewer", Role = AdminRole.Read, Sha256 = Sha256Hex(ReadToken) });
            case TestTokenSources.EverySource:
                Environment.SetEnvironmentVariable(CiVariable, CiToken);
                return ValueList.Create(
                    new AdminTokenConfig { Name = "ops", Role = AdminRole.Admin, Sha256 = Sha256Hex(AdminToken) },
                    new AdminTokenConfig { Name = "viewer", Role = AdminRole.Read, File = directory.WriteFile("viewer.token", ReadToken + "\n") },
                    new AdminTokenConfig { Name = "ci", Role = AdminRole.Admin, Env = CiVariable });
            case TestTokenSources.None:
                return ValueList<AdminTokenConfig>.Empty;
            default:
                throw new ArgumentOutOfRangeException(nameof(sources), sources, null);
        }
    }

    /// <summary>
    /// The <c>tokens:</c> lines of an <c>admin:</c> section in a YAML file (the <see cref="TestTokenSources.Hashed"/> set),
    /// indented by two spaces, for fixtures that start nodes from files.
    /// </summary>
    public static IReadOnlyList<string> YamlLines() =>
    [
        "  tokens:",
        $"    - {{ name: ops, role: admin, sha256: {Sha256Hex(AdminToken)} }}",
        $"    - {{ name: viewer, role: read, sha256: {Sha256Hex(ReadToken)} }}",
    ];

    public static string Sha256Hex(string token) => Convert.ToHexStringLower(AdminTokenHash.Of(token));
}
