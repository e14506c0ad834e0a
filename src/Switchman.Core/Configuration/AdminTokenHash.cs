using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Switchman.Core.Configuration;

/// <summary>
/// Turns an admin token's declaration into the SHA-256 the admin API compares presented tokens with. It reads the
/// file or environment variable itself so the secret never travels further than this method; the validator calls it
/// too, so a token that passes validation is one the API can use. Error messages name where the secret is, never
/// what it is.
/// </summary>
public static class AdminTokenHash
{
    public const int HexLength = SHA256.HashSizeInBytes * 2;

    /// <summary>How an operator makes the value of <c>sha256:</c>.</summary>
    public const string HowToHash = "printf %s \"$TOKEN\" | sha256sum";

    public static byte[] Of(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static bool IsHexDigest(string text) => text.Length == HexLength && text.All(char.IsAsciiHexDigit);

    /// <summary>The SHA-256 of the token <paramref name="token"/> declares, reading its file or variable now.</summary>
    public static bool TryResolve(AdminTokenConfig token, [NotNullWhen(true)] out byte[]? sha256, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(token);
        sha256 = null;
        if (token.Sha256 is { } hex)
        {
            if (!IsHexDigest(hex))
            {
                error = $"must be the {HexLength} hex digits of the token's SHA-256 ({HowToHash})";
                return false;
            }
            sha256 = Convert.FromHexString(hex);
            error = null;
            return true;
        }
        string? secret;
        if (token.File is { } file)
        {
            try
            {
                secret = System.IO.File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                error = $"cannot read the token file '{file}': {e.Message}";
                return false;
            }
        }
        else if (token.Env is { } variable)
        {
            secret = Environment.GetEnvironmentVariable(variable);
            if (secret is null)
            {
                error = $"environment variable '{variable}' is not set";
                return false;
            }
        }
        else
        {
            error = "needs one of sha256, file or env";
            return false;
        }
        // Files usually end with a newline that is not part of the token.
        secret = secret.Trim();
        if (secret.Length == 0)
        {
            error = token.File is { } emptyFile ? $"the token file '{emptyFile}' is empty" : $"environment variable '{token.Env}' is empty";
            return false;
        }
        sha256 = Of(secret);
        error = null;
        return true;
    }
}
