using Switchman.Testing;

namespace Switchman.CliTests.Packaging;

/// <summary>The tarball: one directory with the self-contained binary, which runs as it is, and the files to install it by hand.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(PackagesCollection.Name)]
public class TarballTests(BuiltPackages packages)
{
    [Fact]
    public async Task Tarball_HoldsABinaryThatRuns_AndTheFilesToInstallIt()
    {
        using var directory = new TempDirectory("switchman-tarball");
        await HostProgram.RunToSuccessAsync("tar", ["-xzf", packages.Tarball, "-C", directory.Path]);
        var tree = Assert.Single(Directory.GetDirectories(directory.Path));
        Assert.Equal(Path.GetFileName(packages.Tarball)[..^".tar.gz".Length], Path.GetFileName(tree));
        foreach (var file in new[] { "switchman.yaml", "switchman.service", "switchman.bash", "README.md", "docs/install.md", "docs/copyright" })
        {
            Assert.True(File.Exists(Path.Combine(tree, file)), $"{file} is missing from the tarball");
        }
        var binary = Path.Combine(tree, "switchman");
        Assert.True(File.GetUnixFileMode(binary).HasFlag(UnixFileMode.UserExecute), "the binary is not executable");

        // No .NET needed: the binary carries its runtime (DOTNET_ROOT pointing nowhere changes nothing).
        var noDotNet = new ChildProcessOptions { Environment = new Dictionary<string, string?> { ["DOTNET_ROOT"] = directory.Combine("no-dotnet") } };
        var version = await HostProgram.RunToSuccessAsync(binary, ["--version"], noDotNet);
        Assert.StartsWith(packages.Version.Replace('~', '-') + "+", version.StandardOutput, StringComparison.Ordinal);

        // As README.md says: a token beside the configuration, then check.
        directory.WriteFile(Path.Combine(Path.GetFileName(tree), "admin.token"), Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        var check = await HostProgram.RunToSuccessAsync(binary, ["check", "-c", Path.Combine(tree, "switchman.yaml")], noDotNet);
        Assert.EndsWith("configuration is valid (1 frontends, 1 backends)", check.StandardOutput, StringComparison.Ordinal);
    }
}
