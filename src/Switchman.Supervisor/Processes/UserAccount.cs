using System.Globalization;
using System.Text;

namespace Switchman.Supervisor.Processes;

/// <summary>A user of this host as the C library (NSS: /etc/passwd, LDAP…) knows it: what a service runs as.</summary>
internal sealed record UserAccount(string Name, uint Uid, uint Gid)
{
    /// <summary>Looks up <paramref name="user"/> by name, or by uid when it is a number no user is named.</summary>
    /// <returns>Null when the host has no such user.</returns>
    public static unsafe UserAccount? Find(string user)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        var name = Encoding.UTF8.GetBytes(user + "\0");
        var buffer = new byte[16 * 1024];
        NativeMethods.Passwd entry;
        NativeMethods.Passwd* result = null;
        fixed (byte* namePointer = name)
        fixed (byte* bufferPointer = buffer)
        {
            var error = NativeMethods.GetPasswordEntryByName(namePointer, &entry, bufferPointer, (nuint)buffer.Length, &result);
            if ((error != 0 || result == null)
                && uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
            {
                error = NativeMethods.GetPasswordEntryById(uid, &entry, bufferPointer, (nuint)buffer.Length, &result);
            }
            if (error != 0 || result == null)
            {
                return null;
            }
            return new UserAccount(new string((sbyte*)entry.Name), entry.Uid, entry.Gid);
        }
    }
}
