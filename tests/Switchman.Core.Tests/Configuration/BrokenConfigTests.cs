using System.Globalization;
using System.Text.RegularExpressions;
using Switchman.Core.Configuration.Loading;

namespace Switchman.Core.Tests.Configuration;

/// <summary>
/// Each file in BrokenConfigs/ holds one kind of mistake and declares, on its first line, the error it must produce:
/// <c># expect: line:col path: message fragment</c> (the path is absent for YAML syntax errors).
/// The declared error must be the first one reported: the one an operator reads first.
/// </summary>
public partial class BrokenConfigTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "BrokenConfigs");

    public static TheoryData<string> Files() => new(Directory.GetFiles(Folder, "*.yaml").Select(Path.GetFileName).Order()!);

    [Fact]
    public void Folder_HasOneFilePerErrorKind()
    {
        Assert.True(Directory.GetFiles(Folder, "*.yaml").Length >= 40, $"expected the broken configurations in {Folder}");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void LoadFile_BrokenConfig_ReportsDeclaredErrorFirst(string fileName)
    {
        var path = Path.Combine(Folder, fileName);
        var expectation = ExpectLine().Match(File.ReadLines(path).First());
        Assert.True(expectation.Success, $"{fileName}: the first line must be '# expect: line:col path: message fragment'");
        var line = int.Parse(expectation.Groups["line"].Value, CultureInfo.InvariantCulture);
        var column = int.Parse(expectation.Groups["column"].Value, CultureInfo.InvariantCulture);

        var result = ConfigLoader.LoadFile(path);

        Assert.False(result.IsValid, $"{fileName} loaded without errors");
        Assert.Null(result.Config);
        var first = result.Errors[0];
        var reported = string.Join("\n", result.Errors);
        Assert.True(
            (first.File, first.Line, first.Column, first.Path) == (path, line, column, expectation.Groups["path"].Value)
                && first.Message.Contains(expectation.Groups["message"].Value, StringComparison.Ordinal),
            $"{fileName} declares '{expectation.Value}' but reported:\n{reported}");
    }

    [GeneratedRegex(@"^# expect: (?<line>\d+):(?<column>\d+) ?(?<path>\S*): (?<message>.+)$")]
    private static partial Regex ExpectLine();
}
