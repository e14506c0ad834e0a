using System.Runtime.InteropServices;

namespace Switchman.Testing;

/// <summary>Finds the <c>dotnet</c> host that runs framework-dependent apps such as switchman.dll.</summary>
public static class DotNetHost
{
    /// <summary>The dotnet executable: the one that runs these tests when it can be found, otherwise "dotnet" from PATH.</summary>
    public static string Path { get; } = Locate();

    private static string Locate()
    {
        // Set by the dotnet CLI (dotnet test / dotnet build) for the processes it starts.
        var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli))
        {
            return fromCli;
        }

        // The running runtime lives in <root>/shared/Microsoft.NETCore.App/<version>/; the host is <root>/dotnet.
        var executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        var root = System.IO.Path.GetFullPath(System.IO.Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var besideRuntime = System.IO.Path.Combine(root, executable);
        return File.Exists(besideRuntime) ? besideRuntime : executable;
    }
}
