namespace Switchman.Core.Configuration;

/// <summary>One problem in a configuration source, located by file, line, column and field path.</summary>
/// <param name="File">The file (or source name) the error is in.</param>
/// <param name="Line">1-based line, 0 when unknown.</param>
/// <param name="Column">1-based column, 0 when unknown.</param>
/// <param name="Path">Field path such as <c>backends.api.health.rise</c>.</param>
/// <param name="Message">What is wrong, in words an operator understands.</param>
public sealed record ConfigError(string File, int Line, int Column, string Path, string Message)
{
    public override string ToString() =>
        Line > 0 ? $"{File}:{Line}:{Column} {Path}: {Message}" : $"{File} {Path}: {Message}";
}
