namespace Switchman.Testing;

/// <summary>The checkout the tests were built from: for tests that read or run its files (examples, scripts).</summary>
public static class RepositoryFiles
{
    /// <summary>The directory holding Switchman.slnx, found above the test assembly.</summary>
    /// <exception cref="InvalidOperationException">The tests do not run from inside a checkout.</exception>
    public static string Root { get; } = FindRoot();

    /// <summary>The full path of <paramref name="relativePath"/> in the checkout, e.g. "eng/package.sh".</summary>
    public static string Combine(string relativePath) => Path.Combine(Root, relativePath);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Switchman.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Switchman.slnx not found above " + AppContext.BaseDirectory);
    }
}
