using System.Text.RegularExpressions;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Core.Tests.Configuration;

/// <summary>What <see cref="ConfigWriter"/> writes loads back into an equal configuration, in YAML and in JSON.</summary>
public partial class ConfigWriterTests
{
    [Fact]
    public void ToYaml_ReferenceExample_RoundTripsThroughLoader()
    {
        using var example = ReferenceExample.Create();

        var yaml = ConfigWriter.ToYaml(example.Config);
        var reloaded = TestConfigs.LoadValid(yaml, example.Directory);

        Assert.Equal(example.Config, reloaded);
        Assert.NotNull(reloaded.Cluster);
    }

    [Fact]
    public void ToJson_ReferenceExample_RoundTripsThroughLoader()
    {
        using var example = ReferenceExample.Create();

        var json = ConfigWriter.ToJson(example.Config);
        var reloaded = TestConfigs.LoadValid(json, example.Directory);

        Assert.Equal(example.Config, reloaded);
        Assert.StartsWith("{", json, StringComparison.Ordinal);
    }

    [Fact]
    public void ToYaml_ReferenceExample_NeverContainsTokenSecrets()
    {
        using var example = ReferenceExample.Create();

        var yaml = ConfigWriter.ToYaml(example.Config);
        var json = ConfigWriter.ToJson(example.Config);

        foreach (var secret in example.Secrets)
        {
            Assert.DoesNotContain(secret, yaml, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, json, StringComparison.Ordinal);
        }
        Assert.Contains("env: SWITCHMAN_CI_TOKEN", yaml, StringComparison.Ordinal);
        Assert.Contains($"secret_file: {Path.Combine(example.Directory, "cluster.key")}", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void ToYaml_DefaultsLeftOut_ReadsLikeAHandWrittenFile()
    {
        var config = TestConfigs.LoadValid(TestConfigs.Minimal(backendExtra: "passive: {}\nhealth:\n  path: /healthz\n  interval: 1m30s"));

        var yaml = ConfigWriter.ToYaml(config);

        Assert.Equal("""
            frontends:
              web:
                listen: 127.0.0.1:8080
                default_backend: api
            backends:
              api:
                servers:
                - name: a
                  address: 127.0.0.1:9001
                - name: b
                  address: 127.0.0.1:9002
                health:
                  path: /healthz
                  interval: 1m30s
                passive: {}

            """.ReplaceLineEndings("\n"), yaml);
    }

    [Fact]
    public void ToYaml_EmptyConfig_LoadsAsEmpty()
    {
        var yaml = ConfigWriter.ToYaml(new SwitchmanConfig());

        Assert.Equal(new SwitchmanConfig(), TestConfigs.LoadValid(yaml));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("~")]
    [InlineData("true")]
    [InlineData("123")]
    public void ToYaml_NamesThatLookLikeOtherScalars_StayStrings(string name)
    {
        var config = new SwitchmanConfig
        {
            Backends = ValueList.Create(new BackendConfig
            {
                Name = "api",
                Servers = ValueList.Create(new ServerConfig { Name = name == "~" ? "x" : name, Address = "[::1]:9001" }),
                Health = new HealthCheckConfig { Host = name },
            }),
        };

        Assert.Equal(config, TestConfigs.LoadValid(ConfigWriter.ToYaml(config)));
        Assert.Equal(config, TestConfigs.LoadValid(ConfigWriter.ToJson(config)));
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(500, "500ms")]
    [InlineData(2_000, "2s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(3_723_004, "1h2m3s4ms")]
    public void Duration_WritesLoaderForm(long milliseconds, string expected)
    {
        Assert.Equal(expected, ConfigWriter.Duration(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.True(ScalarFormats.TryParseDuration(expected, out var parsed));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), parsed);
    }

    /// <summary>The complete example of docs/configuration.md, loaded with the files and variables it refers to.</summary>
    private sealed partial class ReferenceExample : IDisposable
    {
        private readonly TempDirectory _dir = new();

        private ReferenceExample()
        {
        }

        public SwitchmanConfig Config { get; private set; } = new();

        public string Directory => _dir.Path;

        public IReadOnlyList<string> Secrets { get; } = ["grafana-secret-7f3a9c", "ci-secret-51b2e8", "cluster-secret-0d4e6a91b7c2"];

        public static ReferenceExample Create()
        {
            var example = new ReferenceExample();
            var markdown = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "configuration.md"));
            var yaml = FirstYamlBlock().Match(markdown).Groups["yaml"].Value;
            TestCertificates.Write(example._dir.File("certs/example.com.pem"), example._dir.File("certs/example.com.key"));
            TestCertificates.Write(example._dir.File("certs/admin.pem"), example._dir.File("certs/admin.key"), "localhost");
            File.WriteAllText(example._dir.File("grafana.token"), example.Secrets[0] + "\n");
            Environment.SetEnvironmentVariable("SWITCHMAN_CI_TOKEN", example.Secrets[1]);
            File.WriteAllText(example._dir.File("cluster.key"), example.Secrets[2] + "\n");
            example.Config = TestConfigs.LoadValid(yaml, example.Directory);
            return example;
        }

        public void Dispose() => _dir.Dispose();

        [GeneratedRegex("```yaml\n(?<yaml>.*?)```", RegexOptions.Singleline)]
        private static partial Regex FirstYamlBlock();
    }
}
