namespace Switchman.Core.Configuration.Validation;

/// <summary>Small lexical rules shared by several checks.</summary>
internal static class Syntax
{
    /// <summary>An HTTP token (RFC 9110 §5.6.2): what methods and cookie names are made of.</summary>
    public static bool IsToken(string text) => text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    /// <summary>Frontend, backend and server names appear in admin API URLs and metric labels, so they stay URL-safe.</summary>
    public static bool IsName(string text) => text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>
    /// The longest name: they are URL path segments, metric labels, log and event text and table columns, so a
    /// 5000-character one is a mistake (or an attack on whatever stores them), never a name.
    /// </summary>
    public const int MaxNameLength = 64;

    public const string NameRule = "use letters, digits, '-', '_' and '.'";

    /// <summary>A host name to match (api.example.com) or a wildcard suffix (*.example.com); no port, no scheme.</summary>
    public static bool IsHostPattern(string text)
    {
        var name = text.StartsWith("*.", StringComparison.Ordinal) ? text[2..] : text;
        return name.Length > 0 && !name.StartsWith('.') && !name.EndsWith('.') && !name.Contains("..", StringComparison.Ordinal)
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');
    }
}
