namespace Switchman.Testing.Guides;

/// <summary>One <c>## </c> section of a guide and the commands it asks the reader to run, in order.</summary>
/// <param name="Title">The heading's text, without the <c>## </c>.</param>
/// <param name="Commands">The text of each fenced <c>```bash</c> block of the section.</param>
public sealed record GuideSection(string Title, IReadOnlyList<string> Commands);

/// <summary>
/// A guide in Markdown read as a test script: its <c>```bash</c> blocks are the commands, run in order in one shell;
/// every other block (<c>```console</c> output, <c>```yaml</c>) is for the reader. Sections are the <c>## </c> headings,
/// so that a test can check after a section what that section claims.
/// </summary>
public sealed class MarkdownGuide
{
    private const string Fence = "```";

    private MarkdownGuide(IReadOnlyList<GuideSection> sections) => Sections = sections;

    /// <summary>Every section, in order; text before the first heading is a section titled "".</summary>
    public IReadOnlyList<GuideSection> Sections { get; }

    public static MarkdownGuide Load(string path) => Parse(File.ReadAllText(path));

    /// <exception cref="FormatException">A fenced block is not closed.</exception>
    public static MarkdownGuide Parse(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var sections = new List<GuideSection>();
        var title = "";
        var commands = new List<string>();
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                sections.Add(new GuideSection(title, commands));
                title = line[3..].Trim();
                commands = [];
            }
            else if (line.StartsWith(Fence, StringComparison.Ordinal))
            {
                var info = line[Fence.Length..].Trim();
                var start = i + 1;
                var end = Array.FindIndex(lines, start, l => l.TrimEnd() == Fence);
                if (end < 0)
                {
                    throw new FormatException($"line {i + 1}: the block opened here ({line.Trim()}) is never closed");
                }
                if (info == "bash")
                {
                    commands.Add(string.Join('\n', lines[start..end]));
                }
                i = end;
            }
        }
        sections.Add(new GuideSection(title, commands));
        return new MarkdownGuide(sections);
    }

    /// <summary>The section titled <paramref name="title"/>.</summary>
    /// <exception cref="KeyNotFoundException">There is none; the message lists the titles there are.</exception>
    public GuideSection Section(string title) =>
        Sections.FirstOrDefault(s => s.Title == title)
        ?? throw new KeyNotFoundException($"the guide has no section '{title}'; its sections: {string.Join(" | ", Sections.Select(s => s.Title))}");
}
