using Switchman.Testing;

namespace Switchman.CliTests.Packaging;

/// <summary>The .deb as dpkg sees it, and installed by dpkg into a fresh directory root: the service's files, the
/// conffile, the maintainer scripts, an upgrade and a purge.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(PackagesCollection.Name)]
public class DebPackageTests(BuiltPackages packages)
{
    [Fact]
    public async Task Deb_NamesItsDependencies_AndHoldsTheServiceFilesWithTheirModes()
    {
        var info = (await HostProgram.RunToSuccessAsync("dpkg-deb", ["--info", packages.Deb])).StandardOutput;
        Assert.Contains(" Package: switchman", info, StringComparison.Ordinal);
        Assert.Contains(" Architecture: amd64", info, StringComparison.Ordinal);
        // ip for the guard that removes a VIP address when the node dies; kill for the unit's reload.
        Assert.Matches(@" Depends: .*\biproute2\b", info);
        Assert.Matches(@" Depends: .*\bprocps\b", info);
        var conffiles = (await HostProgram.RunToSuccessAsync("dpkg-deb", ["--info", packages.Deb, "conffiles"])).StandardOutput;
        Assert.Equal("/etc/switchman/switchman.yaml", conffiles.Trim());

        // "-rwxr-xr-x root/root 146197609 2026-12-07 06:27 ./usr/bin/switchman"
        var contents = (await HostProgram.RunToSuccessAsync("dpkg-deb", ["--contents", packages.Deb])).Output
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(fields => fields[^1], fields => (Mode: fields[0], Owner: fields[1]));
        Assert.Equal(("-rwxr-xr-x", "root/root"), contents["./usr/bin/switchman"]);
        Assert.Equal(("-rw-r--r--", "root/root"), contents["./lib/systemd/system/switchman.service"]);
        Assert.Equal(("-rw-r--r--", "root/root"), contents["./etc/switchman/switchman.yaml"]);
        Assert.Equal(("-rw-r--r--", "root/root"), contents["./usr/share/bash-completion/completions/switchman"]);
        Assert.Equal(("-rw-r--r--", "root/root"), contents["./usr/share/doc/switchman/install.md"]);
        Assert.All(contents.Values, entry => Assert.Equal("root/root", entry.Owner));
    }

    [Fact]
    public async Task Deb_InstalledIntoAFreshRoot_EnablesTheUnit_ChecksItsConfig_KeepsItsEdits_AndPurgesClean()
    {
        using var root = new TempDirectory("switchman-dpkg-root");
        foreach (var directory in new[] { "info", "updates", "triggers" })
        {
            Directory.CreateDirectory(root.Combine($"var/lib/dpkg/{directory}"));
        }
        root.WriteFile("var/lib/dpkg/status", "");

        await DpkgAsync(root, "--install", packages.Deb);

        // postinst made the admin token the configuration names, for root only, and enabled the unit as
        // deb-systemd-helper does (inside the root: DPKG_ROOT), starting nothing (no systemd runs there).
        var token = root.Combine("etc/switchman/admin.token");
        Assert.Matches("^[0-9a-f]{64}$", await File.ReadAllTextAsync(token));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(token));
        Assert.Equal("/lib/systemd/system/switchman.service",
            new FileInfo(root.Combine("etc/systemd/system/multi-user.target.wants/switchman.service")).LinkTarget);

        // The configuration the package installs is valid as it is: the unit's reload runs exactly this check.
        var config = root.Combine("etc/switchman/switchman.yaml");
        var check = await HostProgram.RunToSuccessAsync(root.Combine("usr/bin/switchman"), ["check", "-c", config]);
        Assert.Equal($"{config}: configuration is valid (1 frontends, 1 backends)", check.StandardOutput);

        // An upgrade (the same package again) keeps the edited conffile and the token.
        await File.AppendAllTextAsync(config, "# edited by the operator\n");
        var firstToken = await File.ReadAllTextAsync(token);
        await DpkgAsync(root, "--install", packages.Deb);
        Assert.EndsWith("# edited by the operator\n", await File.ReadAllTextAsync(config), StringComparison.Ordinal);
        Assert.Equal(firstToken, await File.ReadAllTextAsync(token));

        await DpkgAsync(root, "--purge", "switchman");
        Assert.False(Directory.Exists(root.Combine("etc/switchman")), "purge leaves /etc/switchman");
        Assert.False(File.Exists(root.Combine("usr/bin/switchman")), "purge leaves the binary");
        Assert.False(File.Exists(root.Combine("etc/systemd/system/multi-user.target.wants/switchman.service")), "purge leaves the unit enabled");
    }

    [Fact]
    public async Task Unit_PassesSystemdAnalyzeVerify()
    {
        // Not part of dpkg: .ci/run installs systemd (the package, not a running init) for it.
        var analyze = HostProgram.Find("systemd-analyze")
            ?? throw new InvalidOperationException("systemd-analyze is missing: apt-get install systemd (.ci/run does); the unit cannot be verified without it");
        // verify checks that ExecStart's program exists: point it at the extracted binary, and change nothing else.
        using var directory = new TempDirectory("switchman-unit");
        var unit = await File.ReadAllTextAsync(Path.Combine(packages.Extracted, "lib/systemd/system/switchman.service"));
        var path = directory.WriteFile("switchman.service", unit.Replace("/usr/bin/switchman", packages.Binary, StringComparison.Ordinal));

        var verify = await HostProgram.RunAsync(analyze, ["verify", path]);

        // It exits 0 even for unknown keys or bad values, which it prints: none may name this unit.
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.DoesNotContain(verify.Output.Concat(verify.Error), line => line.Contains("switchman", StringComparison.Ordinal));
    }

    /// <summary>dpkg on the directory root <paramref name="root"/>, running the maintainer scripts outside a chroot (they
    /// honour DPKG_ROOT), as any user, with the dependencies (libc, iproute2…) missing from the empty root.</summary>
    private static Task<CliResult> DpkgAsync(TempDirectory root, params string[] arguments) =>
        HostProgram.RunToSuccessAsync("dpkg", [
            $"--root={root.Path}", "--log=/dev/null", "--force-not-root", "--force-script-chrootless", "--force-depends",
            "--force-confold", "--force-unsafe-io", .. arguments]);
}
