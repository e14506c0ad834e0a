using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Switchman.Core.Configuration;

namespace Switchman.Vips;

/// <summary>
/// Builds the rtnetlink requests a VIP needs (rtnetlink(7); linux/netlink.h, if_link.h, if_addr.h): a netlink header,
/// the family's fixed header (ifinfomsg for a link, ifaddrmsg for an address), then attributes, each padded to 4 bytes.
/// Netlink speaks the machine's own byte order; only the address bytes are in network order.
/// </summary>
internal static class RtnetlinkRequest
{
    public const ushort NewLink = 16;
    public const ushort GetLink = 18;
    public const ushort NewAddress = 20;
    public const ushort DeleteAddress = 21;
    public const ushort GetAddress = 22;

    public const ushort FlagRequest = 0x1;
    public const ushort FlagAck = 0x4;
    public const ushort FlagExclusive = 0x200;
    public const ushort FlagCreate = 0x400;

    /// <summary>NLM_F_ROOT | NLM_F_MATCH: every object of the kind.</summary>
    public const ushort FlagDump = 0x300;

    public const ushort LinkHardwareAddress = 1; // IFLA_ADDRESS
    public const ushort LinkName = 3; // IFLA_IFNAME
    public const ushort AddressAddress = 1; // IFA_ADDRESS
    public const ushort AddressLocal = 2; // IFA_LOCAL

    /// <summary>IFA_F_NODAD: no duplicate address detection for a new IPv6 address.</summary>
    public const byte NoDuplicateAddressDetection = 0x02;

    public const int HeaderSize = 16; // nlmsghdr
    public const int LinkHeaderSize = 16; // ifinfomsg
    public const int AddressHeaderSize = 8; // ifaddrmsg

    private const byte FamilyIPv4 = 2; // AF_INET
    private const byte FamilyIPv6 = 10; // AF_INET6

    /// <summary>The link named <paramref name="name"/> (its index and hardware address), looked up by the kernel by name.</summary>
    public static byte[] Link(uint sequence, string name)
    {
        // ifinfomsg all zero: any family, index 0 (so the name decides).
        var message = new Message(GetLink, FlagRequest | FlagAck, sequence, new byte[LinkHeaderSize]);
        message.Attribute(LinkName, Encoding.UTF8.GetBytes(name + "\0"));
        return message.ToArray();
    }

    /// <summary>
    /// Adds <paramref name="vip"/> to the link <paramref name="index"/>; EEXIST if it is there (NLM_F_EXCL), which is how
    /// the caller tells "already there" from a real failure. An IPv6 VIP is added with IFA_F_NODAD: otherwise the kernel
    /// marks it tentative for a second or more of duplicate address detection, during which it cannot be used (no
    /// bind, no answer to neighbour solicitations) — the VIP's whole point is to be usable at once. Another holder is
    /// what the cluster prevents, not DAD.
    /// </summary>
    public static byte[] AddAddress(uint sequence, int index, VipAddress vip) =>
        Address(NewAddress, FlagRequest | FlagAck | FlagCreate | FlagExclusive, sequence, index, vip, vip.IsIPv6 ? NoDuplicateAddressDetection : (byte)0);

    /// <summary>Removes <paramref name="vip"/> (address and prefix length) from the link <paramref name="index"/>; EADDRNOTAVAIL if it is not there.</summary>
    public static byte[] RemoveAddress(uint sequence, int index, VipAddress vip) =>
        Address(DeleteAddress, FlagRequest | FlagAck, sequence, index, vip, 0);

    /// <summary>Every IPv4 (or IPv6) address of every link: the kernel does not filter a dump by link unless asked strictly, so the reader does.</summary>
    public static byte[] Addresses(uint sequence, bool ipv6)
    {
        var header = new byte[AddressHeaderSize];
        header[0] = ipv6 ? FamilyIPv6 : FamilyIPv4;
        return new Message(GetAddress, FlagRequest | FlagDump, sequence, header).ToArray();
    }

    private static byte[] Address(ushort type, ushort flags, uint sequence, int index, VipAddress vip, byte addressFlags)
    {
        ArgumentNullException.ThrowIfNull(vip);
        var header = new byte[AddressHeaderSize];
        header[0] = vip.IsIPv6 ? FamilyIPv6 : FamilyIPv4;
        header[1] = (byte)vip.PrefixLength;
        header[2] = addressFlags;
        // header[3], the scope: 0, RT_SCOPE_UNIVERSE, as `ip addr add` gives any non-loopback address.
        MemoryMarshal.Write(header.AsSpan(4), in index);
        var message = new Message(type, flags, sequence, header);
        var address = vip.Address.GetAddressBytes();
        // Both, as `ip addr add` sends them: IFA_LOCAL is the address itself, IFA_ADDRESS the peer (the same one on a LAN).
        message.Attribute(AddressLocal, address);
        message.Attribute(AddressAddress, address);
        return message.ToArray();
    }

    /// <summary>One request being written; its length is filled in at the end.</summary>
    private sealed class Message
    {
        private readonly ArrayBufferWriter<byte> _bytes = new(128);

        /// <param name="familyHeader">ifinfomsg or ifaddrmsg, already filled in.</param>
        public Message(ushort type, ushort flags, uint sequence, ReadOnlySpan<byte> familyHeader)
        {
            var header = _bytes.GetSpan(HeaderSize)[..HeaderSize];
            header.Clear();
            MemoryMarshal.Write(header[4..], in type);
            MemoryMarshal.Write(header[6..], in flags);
            MemoryMarshal.Write(header[8..], in sequence);
            // nlmsg_pid 0: the kernel fills in the sender's port.
            _bytes.Advance(HeaderSize);
            _bytes.Write(familyHeader);
        }

        public void Attribute(ushort type, ReadOnlySpan<byte> value)
        {
            var length = (ushort)(4 + value.Length);
            var padded = Align(length);
            var span = _bytes.GetSpan(padded)[..padded];
            span.Clear();
            MemoryMarshal.Write(span, in length);
            MemoryMarshal.Write(span[2..], in type);
            value.CopyTo(span[4..]);
            _bytes.Advance(padded);
        }

        public byte[] ToArray()
        {
            var bytes = _bytes.WrittenSpan.ToArray();
            MemoryMarshal.Write(bytes, (uint)bytes.Length);
            return bytes;
        }
    }

    /// <summary>NLMSG_ALIGN and RTA_ALIGN: 4 bytes.</summary>
    public static int Align(int length) => (length + 3) & ~3;
}
