using System.Runtime.InteropServices;

namespace Switchman.Testing.Netns;

/// <summary>The few system calls <see cref="AddressTimeline"/> needs on a netlink socket, which .NET's Socket cannot open or read with control messages.</summary>
internal static unsafe partial class NetlinkNative
{
    public const int AddressFamilyNetlink = 16; // AF_NETLINK
    public const int SocketRawCloseOnExec = 3 | 0x80000; // SOCK_RAW | SOCK_CLOEXEC
    public const int NetlinkRoute = 0; // NETLINK_ROUTE

    public const int SolSocket = 1;
    public const int SoReceiveBufferForce = 33; // SO_RCVBUFFORCE (root may exceed rmem_max)
    public const int SoReceiveTimeout = 20; // SO_RCVTIMEO

    public const int SolNetlink = 270;
    public const int NetlinkAddMembership = 1;
    public const int NetlinkListenAllNsid = 8;

    public const int GroupIPv4Addresses = 5; // RTNLGRP_IPV4_IFADDR
    public const int GroupIPv6Addresses = 9; // RTNLGRP_IPV6_IFADDR

    public const int ErrorAgain = 11; // EAGAIN (SO_RCVTIMEO passed)
    public const int ErrorInterrupted = 4; // EINTR
    public const int ErrorNoBuffers = 105; // ENOBUFS: the kernel dropped notifications

    public const int MessageDontWait = 0x40; // MSG_DONTWAIT

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (x86-64 and arm64 layout: the int after msg_name is padded to the pointer that follows).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeValue
    {
        public long Seconds;
        public long Microseconds;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    /// <summary>struct sockaddr_nl: family, padding, port id (0: the kernel picks one), multicast groups (a bitmask, for the first 32 only).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct NetlinkAddress
    {
        public ushort Family;
        public ushort Padding;
        public uint PortId;
        public uint Groups;
    }

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int socket, NetlinkAddress* address, uint length);

    /// <summary>
    /// Binds the socket to a port the kernel picks. An unbound netlink socket has port 0, the kernel's own, and the
    /// kernel's notifications are never delivered to the port that sent them.
    /// </summary>
    public static void BindToAnyPort(int socket)
    {
        var address = new NetlinkAddress { Family = AddressFamilyNetlink };
        if (Bind(socket, &address, (uint)sizeof(NetlinkAddress)) != 0)
        {
            throw new InvalidOperationException($"bind of a netlink socket failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSocketOption(int socket, int level, int name, void* value, uint length);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint ReceiveMessage(int socket, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int descriptor);

    public static void SetInt(int socket, int level, int name, int value)
    {
        if (SetSocketOption(socket, level, name, &value, sizeof(int)) != 0)
        {
            throw new InvalidOperationException($"setsockopt({level}, {name}) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    public static void SetTimeout(int socket, TimeSpan timeout)
    {
        var value = new TimeValue { Seconds = (long)timeout.TotalSeconds, Microseconds = timeout.Microseconds + timeout.Milliseconds * 1000 };
        if (SetSocketOption(socket, SolSocket, SoReceiveTimeout, &value, (uint)sizeof(TimeValue)) != 0)
        {
            throw new InvalidOperationException($"setsockopt(SO_RCVTIMEO) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }
}
