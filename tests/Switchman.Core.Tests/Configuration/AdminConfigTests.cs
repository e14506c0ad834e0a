using Switchman.Core.Configuration;

namespace Switchman.Core.Tests.Configuration;

/// <summary>Admin API tokens and admin TLS: where the secret is, exactly one place, usable at load time.</summary>
public class AdminConfigTests
{
    private const string Sha256OfTest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"; // "test"

    private static string WithAdmin(string admin) => "admin:\n" + string.Join("\n", admin.Split('\n').Select(l => "  " + l)) + "\n";

    [Fact]
    public void LoadYaml_TokensFromHashFileAndEnv_KeepReferencesNotSecrets()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("grafana.token"), "file-secret\n");
        var variable = "SWITCHMAN_TEST_TOKEN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "env-secret");
        try
        {
            var config = TestConfigs.LoadValid(WithAdmin($"""
                tokens:
                  - name: ops
                    role: admin
                    sha256: {Sha256OfTest}
                  - name: grafana
                    role: read
                    file: grafana.token
                  - name: ci
                    role: admin
                    env: {variable}
                """), dir.Path);

            Assert.Equal(
                ValueList.Create(
                    new AdminTokenConfig { Name = "ops", Role = AdminRole.Admin, Sha256 = Sha256OfTest },
                    new AdminTokenConfig { Name = "grafana", Role = AdminRole.Read, File = dir.File("grafana.token") },
                    new AdminTokenConfig { Name = "ci", Role = AdminRole.Admin, Env = variable }),
                config.Admin.Tokens);
            Assert.DoesNotContain("secret", config.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void TryResolve_EveryForm_GivesSha256OfTrimmedToken()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("t"), "  test\n");
        var variable = "SWITCHMAN_TEST_TOKEN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "test");
        try
        {
            foreach (var token in new[]
            {
                new AdminTokenConfig { Name = "a", Role = AdminRole.Read, Sha256 = Sha256OfTest.ToUpperInvariant() },
                new AdminTokenConfig { Name = "b", Role = AdminRole.Read, File = dir.File("t") },
                new AdminTokenConfig { Name = "c", Role = AdminRole.Read, Env = variable },
            })
            {
                Assert.True(AdminTokenHash.TryResolve(token, out var hash, out var error), error);
                Assert.Equal(Sha256OfTest, Convert.ToHexStringLower(hash));
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void LoadYaml_TokenWithoutSecret_ReportsAtToken()
    {
        TestConfigs.SingleError(WithAdmin("tokens:\n  - name: ops\n    role: admin"), 3, 7, "admin.tokens[0]", "needs one of sha256, file or env");
    }

    [Fact]
    public void LoadYaml_TokenWithTwoSecrets_ReportsBoth()
    {
        TestConfigs.SingleError(
            WithAdmin($"tokens:\n  - name: ops\n    role: admin\n    sha256: {Sha256OfTest}\n    env: HOME"),
            3, 7, "admin.tokens[0]", "has sha256 and env; keep exactly one");
    }

    [Theory]
    [InlineData("9f86d0")]
    [InlineData("zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    public void LoadYaml_Sha256NotHexDigest_Reported(string value)
    {
        TestConfigs.SingleError(WithAdmin($"tokens:\n  - name: ops\n    role: admin\n    sha256: {value}"), 5, 7, "admin.tokens[0].sha256", "64 hex digits");
    }

    [Fact]
    public void LoadYaml_TokenFileMissing_Reported()
    {
        using var dir = new TempDirectory();
        var result = TestConfigs.Load(WithAdmin("tokens:\n  - name: ops\n    role: read\n    file: nowhere.token"), dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal(("admin.tokens[0].file", 5), (error.Path, error.Line));
        Assert.Contains($"cannot read the token file '{dir.File("nowhere.token")}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_TokenFileEmpty_Reported()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("empty.token"), "\n");

        var result = TestConfigs.Load(WithAdmin("tokens:\n  - name: ops\n    role: read\n    file: empty.token"), dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal("admin.tokens[0].file", error.Path);
        Assert.Contains("is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_TokenEnvUnset_Reported()
    {
        var variable = "SWITCHMAN_TEST_UNSET_" + Guid.NewGuid().ToString("N");

        TestConfigs.SingleError(WithAdmin($"tokens:\n  - name: ci\n    role: admin\n    env: {variable}"), 5, 7, "admin.tokens[0].env", $"environment variable '{variable}' is not set");
    }

    [Fact]
    public void LoadYaml_TokenWithoutRoleOrBadRole_Reported()
    {
        TestConfigs.SingleError(WithAdmin($"tokens:\n  - name: ops\n    sha256: {Sha256OfTest}"), 3, 7, "admin.tokens[0]", "missing required key 'role'");
        TestConfigs.SingleError(WithAdmin($"tokens:\n  - name: ops\n    role: root\n    sha256: {Sha256OfTest}"), 4, 7, "admin.tokens[0].role", "'root' is not one of: read, admin");
    }

    [Fact]
    public void LoadYaml_DuplicateTokenNames_Reported()
    {
        TestConfigs.SingleError(
            WithAdmin($"tokens:\n  - {{ name: ops, role: admin, sha256: {Sha256OfTest} }}\n  - {{ name: ops, role: read, sha256: {Sha256OfTest} }}"),
            4, 9, "admin.tokens[1].name", "token name 'ops' is already used by tokens[0]");
    }

    [Fact]
    public void LoadYaml_EveryTokenMistake_ReportedTogether()
    {
        var result = TestConfigs.Load(WithAdmin($"""
            tokens:
              - name: a
                role: admin
              - name: b
                role: read
                sha256: nothex
              - name: c
                role: root
                sha256: {Sha256OfTest}
            """));

        Assert.Equal(["admin.tokens[0]", "admin.tokens[1].sha256", "admin.tokens[2].role"], result.Errors.Select(e => e.Path));
    }

    [Fact]
    public void LoadYaml_AdminTls_ResolvesPathsAndChecksPair()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("admin.crt"), dir.File("admin.key"));

        var config = TestConfigs.LoadValid(WithAdmin("tls: { cert: admin.crt, key: admin.key }"), dir.Path);

        Assert.Equal(new AdminTlsConfig { Cert = dir.File("admin.crt"), Key = dir.File("admin.key") }, config.Admin.Tls);
    }

    [Fact]
    public void LoadYaml_AdminTlsMissingFiles_ReportsEach()
    {
        using var dir = new TempDirectory();

        var result = TestConfigs.Load(WithAdmin("tls:\n  cert: admin.crt\n  key: admin.key"), dir.Path);

        Assert.Equal(["admin.tls.cert", "admin.tls.key"], result.Errors.Select(e => e.Path));
        Assert.All(result.Errors, e => Assert.Contains("does not exist", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void LoadYaml_AdminTlsWithoutKey_ReportsMissingKey()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("admin.crt"), dir.File("admin.key"));

        var result = TestConfigs.Load(WithAdmin("tls: { cert: admin.crt }"), dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal((2, 3, "admin.tls"), (error.Line, error.Column, error.Path));
        Assert.Equal("missing required key 'key'", error.Message);
    }

    [Fact]
    public void LoadYaml_AdminTlsCaAndRequiredClientCertificates_BoundAndWrittenBack()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("admin.crt"), dir.File("admin.key"));
        TestCertificates.Write(dir.File("ca.crt"), dir.File("ca.key"), host: "Test CA");

        var config = TestConfigs.LoadValid(WithAdmin("tls: { cert: admin.crt, key: admin.key, ca: ca.crt, client_certificates: required }"), dir.Path);

        Assert.Equal(dir.File("ca.crt"), config.Admin.Tls!.Ca);
        Assert.Equal(AdminClientCertificates.Required, config.Admin.Tls.ClientCertificates);
        Assert.Equal(config, TestConfigs.LoadValid(Switchman.Core.Configuration.Writing.ConfigWriter.ToYaml(config), dir.Path));
    }

    [Fact]
    public void LoadYaml_RequiredClientCertificatesWithoutCa_ReportedAtTheField()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("admin.crt"), dir.File("admin.key"));

        var result = TestConfigs.Load(WithAdmin("tls: { cert: admin.crt, key: admin.key, client_certificates: required }"), dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal("admin.tls.client_certificates", error.Path);
        Assert.Contains("required needs ca", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_AdminTlsCaNotACertificate_ReportedAtTheField()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("admin.crt"), dir.File("admin.key"));
        File.WriteAllText(dir.File("ca.crt"), "not a certificate\n");

        var result = TestConfigs.Load(WithAdmin("tls: { cert: admin.crt, key: admin.key, ca: ca.crt }"), dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal("admin.tls.ca", error.Path);
        Assert.Contains("holds no PEM certificate", error.Message, StringComparison.Ordinal);
    }
}
