using System.Net;
using System.Runtime.InteropServices;
using Switchman.Core.Configuration;

namespace Switchman.Vips;

/// <summary>One message of what the kernel sent back on a netlink socket (a datagram may hold several).</summary>
internal readonly record struct NetlinkMessage(ushort Type, ushort Flags, uint Sequence, ReadOnlyMemory<byte> Payload)
{
    public const ushort Error = 2; // NLMSG_ERROR: an error, or with code 0 the acknowledgement
    public const ushort Done = 3; // NLMSG_DONE: the end of a dump

    /// <summary>The errno of an NLMSG_ERROR (0: the acknowledgement) or of an NLMSG_DONE (which may carry one).</summary>
    public int ErrorNumber => Payload.Length >= 4 ? -MemoryMarshal.Read<int>(Payload.Span) : 0;

    /// <summary>The messages in <paramref name="datagram"/>, in order; a truncated one ends the list.</summary>
    public static List<NetlinkMessage> Split(ReadOnlyMemory<byte> datagram)
    {
        var messages = new List<NetlinkMessage>();
        while (datagram.Length >= RtnetlinkRequest.HeaderSize)
        {
            var header = datagram.Span;
            var length = (int)MemoryMarshal.Read<uint>(header);
            if (length < RtnetlinkRequest.HeaderSize || length > datagram.Length)
            {
                break;
            }
            messages.Add(new NetlinkMessage(
                MemoryMarshal.Read<ushort>(header[4..]), MemoryMarshal.Read<ushort>(header[6..]), MemoryMarshal.Read<uint>(header[8..]),
                datagram[RtnetlinkRequest.HeaderSize..length]));
            datagram = datagram[Math.Min(RtnetlinkRequest.Align(length), datagram.Length)..];
        }
        return messages;
    }

    /// <summary>An RTM_NEWLINK's link: its index and hardware (MAC) address, empty if it has none.</summary>
    public (int Index, byte[] HardwareAddress) Link()
    {
        var payload = Payload.Span;
        if (Type != RtnetlinkRequest.NewLink || payload.Length < RtnetlinkRequest.LinkHeaderSize)
        {
            throw new InvalidDataException($"expected a link (RTM_NEWLINK), got message type {Type} of {payload.Length} bytes");
        }
        var index = MemoryMarshal.Read<int>(payload[4..]);
        var attributes = payload[RtnetlinkRequest.LinkHeaderSize..];
        return (index, TryFindAttribute(attributes, RtnetlinkRequest.LinkHardwareAddress, out var address) ? address.ToArray() : []);
    }

    /// <summary>Whether this RTM_NEWADDR is <paramref name="vip"/> (address and prefix length) on the link <paramref name="index"/>.</summary>
    public bool IsAddress(int index, VipAddress vip)
    {
        ArgumentNullException.ThrowIfNull(vip);
        var payload = Payload.Span;
        if (Type != RtnetlinkRequest.NewAddress || payload.Length < RtnetlinkRequest.AddressHeaderSize
            || payload[1] != vip.PrefixLength || MemoryMarshal.Read<int>(payload[4..]) != index)
        {
            return false;
        }
        var attributes = payload[RtnetlinkRequest.AddressHeaderSize..];
        // The node's own address is IFA_LOCAL when present (IPv4), else IFA_ADDRESS (IPv6): as iproute2 reads it.
        return (TryFindAttribute(attributes, RtnetlinkRequest.AddressLocal, out var address)
                || TryFindAttribute(attributes, RtnetlinkRequest.AddressAddress, out address))
            && new IPAddress(address).Equals(vip.Address);
    }

    private static bool TryFindAttribute(ReadOnlySpan<byte> attributes, ushort type, out ReadOnlySpan<byte> value)
    {
        while (attributes.Length >= 4)
        {
            var length = MemoryMarshal.Read<ushort>(attributes);
            if (length < 4 || length > attributes.Length)
            {
                break;
            }
            // The top bits are NLA_F_NESTED and NLA_F_NET_BYTEORDER, not part of the type.
            if ((MemoryMarshal.Read<ushort>(attributes[2..]) & 0x3FFF) == type)
            {
                value = attributes[4..length];
                return true;
            }
            attributes = attributes[Math.Min(RtnetlinkRequest.Align(length), attributes.Length)..];
        }
        value = default;
        return false;
    }
}
