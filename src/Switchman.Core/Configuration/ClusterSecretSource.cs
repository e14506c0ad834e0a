using System.Text;

namespace Switchman.Core.Configuration;

/// <summary>
/// Reads the cluster's shared secret from where <c>cluster.secret_file</c> or <c>cluster.secret_env</c> says: one
/// reader for the validator and for the node, so what passes validation is what the node uses (the text as UTF-8,
/// white space around it left out). Problems name where the secret is, never what it is.
/// </summary>
public static class ClusterSecretSource
{
    /// <summary>The shortest secret accepted, in bytes.</summary>
    public const int MinimumLength = 16;

    public const string HowToMake = "head -c 32 /dev/urandom | base64";

    /// <summary>The secret, or null with the <paramref name="problem"/> that makes it unusable.</summary>
    public static byte[]? TryRead(ClusterConfig cluster, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (cluster.SecretFile is { } file)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                problem = $"cannot read the secret file '{file}': {e.Message}";
                return null;
            }
            return Checked(Encoding.UTF8.GetBytes(text.Trim()),
                $"the secret file '{file}' holds fewer than {MinimumLength} bytes (white space around them not counted); make a secret with {HowToMake}",
                out problem);
        }
        if (cluster.SecretEnv is { } variable)
        {
            if (Environment.GetEnvironmentVariable(variable) is not { } value)
            {
                problem = $"environment variable '{variable}' is not set";
                return null;
            }
            return Checked(Encoding.UTF8.GetBytes(value.Trim()),
                $"environment variable '{variable}' holds fewer than {MinimumLength} characters (white space around them not counted); make a secret with {HowToMake}",
                out problem);
        }
        problem = "cluster traffic needs a shared secret: set cluster.secret_file or cluster.secret_env";
        return null;
    }

    private static byte[]? Checked(byte[] secret, string tooShort, out string? problem)
    {
        problem = secret.Length < MinimumLength ? tooShort : null;
        return problem is null ? secret : null;
    }
}
