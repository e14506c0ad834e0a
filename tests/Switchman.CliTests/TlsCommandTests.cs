using Switchman.Testing;

namespace Switchman.CliTests;

/// <summary><c>switchman tls ca</c> and <c>switchman tls cert</c>: the files they write are what <c>cluster.tls</c> accepts.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TlsCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new("switchman-tls-cli");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_ca_and_a_node_certificate_made_by_the_cli_pass_switchman_check_and_keys_are_private()
    {
        var ca = await Cli.RunAsync("tls", "ca", "--dir", _dir.Path);
        Assert.True(ca.ExitCode == 0, ca.ToString());
        var cert = await Cli.RunAsync("tls", "cert", "lb1", "--dir", _dir.Path, "--address", "192.0.2.11");
        Assert.True(cert.ExitCode == 0, cert.ToString());
        Assert.Contains("cluster.tls: { cert: lb1.crt, key: lb1.key, ca: switchman-ca.crt }", cert.StandardOutput, StringComparison.Ordinal);

        foreach (var key in new[] { "switchman-ca.key", "lb1.key" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir.Combine(key)));
            Assert.DoesNotContain(File.ReadAllText(_dir.Combine(key)).Split('\n')[1], ca.StandardOutput + cert.StandardOutput, StringComparison.Ordinal);
        }
        var config = _dir.WriteFile("lb1.yaml", $"""
            cluster:
              node_id: lb1
              listen: 127.0.0.1:7001
              data_dir: data
              secret_file: cluster.key
              tls: {'{'} cert: lb1.crt, key: lb1.key, ca: switchman-ca.crt {'}'}
            """);
        _dir.WriteFile("cluster.key", "0123456789abcdef0123456789abcdef");
        var check = await Cli.RunAsync("check", "-c", config);
        Assert.True(check.ExitCode == 0, check.ToString());

        // The same certificate on another node is refused by check, naming the command that makes the right one.
        var wrongNode = _dir.WriteFile("lb2.yaml", File.ReadAllText(config).Replace("node_id: lb1", "node_id: lb2", StringComparison.Ordinal));
        var refused = await Cli.RunAsync("check", "-c", wrongNode);
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("switchman tls cert lb2", refused.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_existing_ca_is_not_overwritten_and_a_missing_one_is_named()
    {
        var missing = await Cli.RunAsync("tls", "cert", "lb1", "--dir", _dir.Path);
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("make it with switchman tls ca", missing.StandardError, StringComparison.Ordinal);

        Assert.Equal(0, (await Cli.RunAsync("tls", "ca", "--dir", _dir.Path)).ExitCode);
        var key = File.ReadAllText(_dir.Combine("switchman-ca.key"));
        var again = await Cli.RunAsync("tls", "ca", "--dir", _dir.Path);
        Assert.True(again.ExitCode == 1, again.ToString());
        Assert.Contains("exists already", again.StandardError, StringComparison.Ordinal);
        Assert.Equal(key, File.ReadAllText(_dir.Combine("switchman-ca.key")));
    }
}
