using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Api.Auth;

/// <summary>A token the node recognised: who holds it and what it may do.</summary>
public sealed record AdminIdentity(string Name, AdminRole Role);

/// <summary>
/// The tokens of the running configuration, as SHA-256 hashes. Files and environment variables are read once per
/// configuration revision (a reload picks up a rotated token), not on every request. A presented token is hashed and
/// compared with every known hash in constant time, so neither the comparison nor the position of a match leaks
/// through timing. Nothing here logs or keeps a plaintext token.
/// </summary>
public sealed class AdminTokens(ConfigStore store, ILogger<AdminTokens> logger)
{
    private volatile TokenTable? _table;

    /// <summary>False when the configuration declares no token at all: the API then refuses everything.</summary>
    public bool AnyConfigured => Current().Source.Tokens.Count > 0;

    public AdminIdentity? Find(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        var hash = AdminTokenHash.Of(presented);
        AdminIdentity? match = null;
        foreach (var entry in Current().Entries)
        {
            // No early exit: every entry costs the same whether or not an earlier one matched.
            if (CryptographicOperations.FixedTimeEquals(hash, entry.Hash) && match is null)
            {
                match = entry.Identity;
            }
        }
        return match;
    }

    private TokenTable Current()
    {
        var admin = store.Current.Config.Admin;
        var table = _table;
        // Reference comparison on purpose: every accepted revision (a reload too) re-reads files and variables.
        if (table is null || !ReferenceEquals(table.Source, admin))
        {
            table = Build(admin);
            _table = table;
        }
        return table;
    }

    private TokenTable Build(AdminConfig admin)
    {
        var entries = new List<(AdminIdentity, byte[])>();
        foreach (var token in admin.Tokens)
        {
            if (AdminTokenHash.TryResolve(token, out var hash, out var error))
            {
                entries.Add((new AdminIdentity(token.Name, token.Role), hash));
            }
            else
            {
                // Validated when loaded, so the file or variable went away since; the message names where, not what.
                AdminApiLog.TokenUnusable(logger, token.Name, error);
            }
        }
        return new TokenTable(admin, [.. entries.Select(e => new TokenEntry(e.Item1, e.Item2))]);
    }

    private sealed record TokenTable(AdminConfig Source, IReadOnlyList<TokenEntry> Entries);

    private sealed record TokenEntry(AdminIdentity Identity, byte[] Hash);
}
