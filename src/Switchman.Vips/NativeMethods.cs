using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Switchman.Vips;

internal static partial class NativeMethods
{
    /// <summary>AF_NETLINK: .NET's <see cref="System.Net.Sockets.Socket"/> cannot create one itself, but drives one it is handed.</summary>
    public const int AddressFamilyNetlink = 16;

    /// <summary>SOCK_RAW | SOCK_CLOEXEC: the guard's shell child must not inherit the socket.</summary>
    public const int SocketRawCloseOnExec = 3 | 0x80000;

    /// <summary>NETLINK_ROUTE: links, addresses, routes (rtnetlink(7)).</summary>
    public const int NetlinkRoute = 0;

    /// <summary>CLONE_NEWNET: the namespace type for <see cref="SetNs"/>.</summary>
    public const int CloneNewNet = 0x40000000;

    /// <summary>socket(2), for the one family .NET will not open (netlink).</summary>
    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    /// <summary>setns(2): moves the calling thread (only that thread) into the namespace <paramref name="namespaceFile"/> refers to.</summary>
    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(SafeFileHandle namespaceFile, int namespaceType);
}
