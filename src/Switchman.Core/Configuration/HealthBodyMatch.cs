using System.Text.RegularExpressions;

namespace Switchman.Core.Configuration;

/// <summary>The regular expression of <c>health.expect_body_regex</c>, built the same way where it is validated and where it runs.</summary>
public static class HealthBodyMatch
{
    private const RegexOptions Options = RegexOptions.CultureInvariant;

    /// <summary>The compiled pattern with its match timeout, or null and why .NET refused it.</summary>
    public static Regex? TryCreateRegex(string pattern, out string? error)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        try
        {
            error = null;
            return new Regex(pattern, Options, HealthCheckConfig.BodyRegexTimeout);
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return null;
        }
    }
}
