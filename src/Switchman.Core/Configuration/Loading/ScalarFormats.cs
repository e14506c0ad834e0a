using System.Globalization;

namespace Switchman.Core.Configuration.Loading;

/// <summary>Parses the text forms of configuration values: durations, byte sizes, status ranges, enum names.</summary>
public static class ScalarFormats
{
    // TimeSpan counts ticks in a long; stay below that so the sum can never overflow.
    private const long MaxMilliseconds = long.MaxValue / TimeSpan.TicksPerMillisecond;

    public const string DurationForms = "500ms, 2s, 1m, 1h or 1m30s";

    public const string SizeForms = "65536 (bytes), 64KiB, 1MiB, 64k or 1m";

    /// <summary>"500ms", "2s", "1m", "1h", "1m30s"; "0" alone is zero. A bare number is rejected: its unit is a guess.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text == "0")
        {
            return true;
        }
        if (text.Length == 0)
        {
            return false;
        }
        long totalMilliseconds = 0;
        var i = 0;
        while (i < text.Length)
        {
            var numberStart = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }
            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }
            if (unitStart == numberStart || !long.TryParse(text.AsSpan(numberStart, unitStart - numberStart), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }
            long unitMilliseconds = text[unitStart..i] switch
            {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => 0,
            };
            if (unitMilliseconds == 0 || number > (MaxMilliseconds - totalMilliseconds) / unitMilliseconds)
            {
                return false;
            }
            totalMilliseconds += number * unitMilliseconds;
        }
        value = TimeSpan.FromMilliseconds(totalMilliseconds);
        return true;
    }

    public static bool IsBareNumber(string text) =>
        decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out _);

    /// <summary>Bytes as a number, or with a binary suffix: B, KiB/k, MiB/m, GiB/g (case-insensitive).</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }
        long multiplier = text[digits..].ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KIB" => 1L << 10,
            "M" or "MIB" => 1L << 20,
            "G" or "GIB" => 1L << 30,
            _ => 0,
        };
        if (digits == 0 || multiplier == 0 ||
            !long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var number) ||
            number > long.MaxValue / multiplier)
        {
            return false;
        }
        bytes = number * multiplier;
        return true;
    }

    public static bool TryParseInt(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    public static bool TryParseBool(string text, out bool value)
    {
        value = text.Equals("true", StringComparison.OrdinalIgnoreCase);
        return value || text.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>"200" or "200-399".</summary>
    public static bool TryParseStatusRange(string text, out StatusRange range)
    {
        range = default;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var fromText = dash < 0 ? text : text[..dash];
        var toText = dash < 0 ? text : text[(dash + 1)..];
        if (!int.TryParse(fromText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var from) ||
            !int.TryParse(toText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var to))
        {
            return false;
        }
        range = new StatusRange(from, to);
        return true;
    }

    /// <summary>Enum values are written as their lower-case names (RoundRobin → roundrobin); any case is accepted.</summary>
    public static bool TryParseEnum<T>(string text, out T value)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (text.Equals(candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    public static string EnumNames<T>()
        where T : struct, Enum =>
        string.Join(", ", Enum.GetNames<T>().Select(name => name.ToLowerInvariant()));
}
