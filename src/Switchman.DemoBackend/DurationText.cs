using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Switchman.DemoBackend;

/// <summary>Parses durations written the way operators write them: "250ms", "2s", "1.5s", "1m", or "0".</summary>
public static class DurationText
{
    public static bool TryParse(string? text, out TimeSpan duration, [NotNullWhen(false)] out string? error)
    {
        duration = TimeSpan.Zero;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "a duration is required, e.g. 250ms, 2s or 1m";
            return false;
        }
        if (text == "0")
        {
            error = null;
            return true;
        }

        // Longest suffix first, so "ms" is not read as "m".
        (string Suffix, double MillisecondsPerUnit)[] units = [("ms", 1), ("s", 1_000), ("m", 60_000)];
        foreach (var (suffix, millisecondsPerUnit) in units)
        {
            if (!text.EndsWith(suffix, StringComparison.Ordinal))
            {
                continue;
            }
            var number = text[..^suffix.Length];
            if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
                || double.IsInfinity(value * millisecondsPerUnit)
                || value * millisecondsPerUnit > TimeSpan.FromDays(1).TotalMilliseconds)
            {
                error = $"'{text}' is not a duration: expected a non-negative number up to one day followed by ms, s or m";
                return false;
            }
            duration = TimeSpan.FromMilliseconds(value * millisecondsPerUnit);
            error = null;
            return true;
        }
        error = $"'{text}' is not a duration: add a unit, e.g. 250ms, 2s or 1m";
        return false;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var duration, out var error) ? duration : throw new FormatException(error);
}
