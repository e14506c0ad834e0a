namespace Switchman.Core.Configuration;

/// <summary>One problem in a configuration source, located by file, line, column and field path.</summary>
/// <param name="File">The file (or source name) the error is in.</param>
/// <param name="Line">1-based line, 0 when unknown.</param>
/// <param name="Column">1-based column, 0 when unknown.</param>
/// <param name="Path">Field path such as <c>backends.api.health.rise</c>.</param>
/// <param name="Message">What is wrong, in words an operator understands.</param>
public sealed record ConfigError(string File, int Line, int Column, string Path, string Message)
{
    /// <summary><c>file:line:col path: message</c>, the form editors and CI logs turn into links. Parts that are
    /// unknown are left out (a syntax error has no field path; a configuration built in code has no line).</summary>
    public override string ToString()
    {
        var location = Line > 0 ? $"{File}:{Line}:{Column}" : File;
        return Path.Length > 0 ? $"{location} {Path}: {Message}" : $"{location}: {Message}";
    }
}
