using Switchman.Testing;

namespace Switchman.CliTests.Packaging;

/// <summary>
/// The packages eng/package.sh builds from this checkout: built once for every test of <see cref="PackagesCollection"/>
/// (the self-contained publish is what takes time), with the .deb's files extracted for the tests that run its binary.
/// They are built with <c>--no-ready-to-run</c>: the same files from the same script, whose code the JIT compiles at
/// start instead of ahead, for a quarter of the CPU time (58 s against 231 s from scratch on two cores), so that these
/// tests add about a minute to CI. <c>SWITCHMAN_PACKAGES=DIR</c> tests the packages already built in DIR instead, such
/// as the released ones (<c>bash eng/package.sh --output DIR</c>). dpkg-deb and dpkg are required: without them the
/// tests fail, they are not skipped (every Debian system has dpkg).
/// </summary>
public sealed class BuiltPackages : IAsyncLifetime
{
    /// <summary>Far above what the build takes on two busy cores; a bound, not an expectation.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(20);

    private readonly TempDirectory _work = new("switchman-packages");

    /// <summary>Where the .deb and the tarball are.</summary>
    public string Directory { get; private set; } = "";

    /// <summary>The .deb's version, as dpkg-deb reads it from the package.</summary>
    public string Version { get; private set; } = "";

    public string Deb { get; private set; } = "";

    public string Tarball { get; private set; } = "";

    /// <summary>The .deb's files, extracted (dpkg-deb -x) without installing them.</summary>
    public string Extracted => _work.Combine("extracted");

    /// <summary>The binary the .deb installs as /usr/bin/switchman.</summary>
    public string Binary => Path.Combine(Extracted, "usr", "bin", "switchman");

    /// <summary>How long eng/package.sh took; null when the packages were built beforehand.</summary>
    public TimeSpan? BuildTime { get; private set; }

    public async Task InitializeAsync()
    {
        var dpkgDeb = HostProgram.Require("dpkg-deb", "dpkg");
        HostProgram.Require("dpkg", "dpkg");
        if (Environment.GetEnvironmentVariable("SWITCHMAN_PACKAGES") is { Length: > 0 } built)
        {
            Directory = Path.GetFullPath(built);
        }
        else
        {
            Directory = _work.Combine("out");
            var started = TimeProvider.System.GetTimestamp();
            await HostProgram.RunToSuccessAsync("bash", [RepositoryFiles.Combine("eng/package.sh"), "--output", Directory, "--no-ready-to-run"],
                new ChildProcessOptions { WorkingDirectory = RepositoryFiles.Root, Environment = OutsideTheTestRun() }, BuildTimeout);
            BuildTime = TimeProvider.System.GetElapsedTime(started);
        }
        Deb = Single("switchman_*_amd64.deb");
        Tarball = Single("switchman-*-linux-x64.tar.gz");
        Version = (await HostProgram.RunToSuccessAsync(dpkgDeb, ["--field", Deb, "Version"])).StandardOutput.Trim();
        await HostProgram.RunToSuccessAsync(dpkgDeb, ["-x", Deb, Extracted]);
    }

    public Task DisposeAsync()
    {
        _work.Dispose();
        return Task.CompletedTask;
    }

    private string Single(string pattern)
    {
        var files = System.IO.Directory.GetFiles(Directory, pattern);
        return files.Length == 1
            ? files[0]
            : throw new InvalidOperationException($"expected one {pattern} in {Directory}, found {files.Length}");
    }

    /// <summary>
    /// The test run's environment without what `dotnet test` sets for MSBuild (MSBUILD_EXE_PATH, MSBuildSDKsPath…), which
    /// would make the script's own `dotnet publish` build with the test run's MSBuild settings.
    /// </summary>
    private static Dictionary<string, string?> OutsideTheTestRun() =>
        Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(name => name, _ => (string?)null);
}

/// <summary>The tests of the built packages, which share one build.</summary>
[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<BuiltPackages>
{
    public const string Name = "packages";
}
