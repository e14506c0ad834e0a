using Spectre.Console;

namespace Switchman.Commands;

/// <summary>Spectre.Console consoles that write to a command's output writer.</summary>
internal static class Terminal
{
    /// <summary>Width of tables when the output is not a terminal (a pipe, a file, a test), so lines never wrap at some default.</summary>
    public const int RedirectedWidth = 120;

    /// <summary>
    /// A console on <paramref name="writer"/>: with colours and the terminal's width when it is a terminal; otherwise
    /// plain text (no escape codes in files and pipes) at <see cref="RedirectedWidth"/> columns.
    /// </summary>
    public static IAnsiConsole For(TextWriter writer)
    {
        var isTerminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!isTerminal)
        {
            console.Profile.Width = RedirectedWidth;
        }
        return console;
    }
}
