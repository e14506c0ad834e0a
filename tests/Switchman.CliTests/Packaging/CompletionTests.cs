using Switchman.Testing;

namespace Switchman.CliTests.Packaging;

/// <summary>
/// The bash completion the .deb installs, loaded into bash and asked as bash asks it (COMP_WORDS, COMP_CWORD,
/// COMP_LINE, COMP_POINT), against the packaged binary: it offers what the program knows, from the program itself.
/// </summary>
[Collection(PackagesCollection.Name)]
public class CompletionTests(BuiltPackages packages)
{
    /// <summary>
    /// Sources the completion, puts the packaged binary first in PATH, and for each line given completes it as bash
    /// would with the cursor at its end: prints the candidates on one line, separated by spaces, in the order offered.
    /// </summary>
    private const string Driver = """
        source "$1"
        PATH="$2:$PATH"
        shift 2
        for line in "$@"; do
          COMP_LINE=$line
          COMP_POINT=${#line}
          read -ra COMP_WORDS <<< "$line"
          if [[ $line == *" " ]]; then COMP_WORDS+=(""); fi
          COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
          _switchman switchman "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
          echo "${COMPREPLY[*]}"
        done
        """;

    [Fact]
    public async Task Completion_OffersTheProgramsOwnCommandsOptionsAndValues()
    {
        var completion = Path.Combine(packages.Extracted, "usr/share/bash-completion/completions/switchman");
        string[] lines = ["switchman se", "switchman service ", "switchman -", "switchman status -o ", "switchman service restart --r"];

        var result = await HostProgram.RunToSuccessAsync("bash", ["-c", Driver, "driver", completion, Path.GetDirectoryName(packages.Binary)!, .. lines]);

        var offered = result.Output.Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(lines.Length, offered.Count);
        Assert.Equal(["server", "service"], offered[0]);
        Assert.Superset(new HashSet<string> { "list", "status", "restart", "stop", "start", "cleanup", "logs" }, offered[1].ToHashSet());
        // Only what begins with what is typed, and no Windows-style help aliases (/?, /h).
        Assert.All(offered[2], word => Assert.StartsWith("-", word, StringComparison.Ordinal));
        Assert.Contains("--version", offered[2]);
        Assert.DoesNotContain(offered[1], word => word.StartsWith('/'));
        Assert.Equal(["json", "table"], offered[3]);
        Assert.Equal(["--rolling"], offered[4]);
    }

    [Fact]
    public async Task Completion_IsRegisteredForSwitchman_FallingBackToFileNames()
    {
        var completion = Path.Combine(packages.Extracted, "usr/share/bash-completion/completions/switchman");

        var result = await HostProgram.RunToSuccessAsync("bash", ["-c", "source \"$1\" && complete -p switchman", "driver", completion]);

        Assert.Equal("complete -o default -F _switchman switchman", result.StandardOutput);
    }
}
