using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Switchman.Core.Configuration;

namespace Switchman.Vips;

/// <summary>
/// The frame that tells a LAN's neighbours that a VIP is now at this node's MAC address, so they send to it at once
/// rather than when their entry for the VIP expires. What goes after the Ethernet header, the header itself being
/// written by the kernel for a SOCK_DGRAM packet socket from <see cref="EtherType"/>, <see cref="Destination"/> and the
/// interface's own MAC address.
/// </summary>
internal sealed record Announcement(ushort EtherType, byte[] Destination, byte[] Payload)
{
    public const ushort EtherTypeArp = 0x0806;
    public const ushort EtherTypeIPv6 = 0x86DD;

    private const int MacLength = 6;
    private static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    /// <summary>ff02::1, all nodes on the link; its Ethernet address is 33:33 and its last 32 bits (RFC 2464).</summary>
    private static readonly IPAddress AllNodes = IPAddress.Parse("ff02::1");
    private static readonly byte[] AllNodesMac = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01];

    /// <summary>The announcement of <paramref name="vip"/> at <paramref name="mac"/>: gratuitous ARP for IPv4, an unsolicited neighbour advertisement for IPv6.</summary>
    public static Announcement For(VipAddress vip, ReadOnlySpan<byte> mac)
    {
        ArgumentNullException.ThrowIfNull(vip);
        if (mac.Length != MacLength)
        {
            throw new ArgumentException($"an Ethernet address has {MacLength} bytes, not {mac.Length}", nameof(mac));
        }
        return vip.IsIPv6
            ? new Announcement(EtherTypeIPv6, AllNodesMac, NeighbourAdvertisement(vip.Address, mac))
            : new Announcement(EtherTypeArp, Broadcast, GratuitousArp(vip.Address, mac));
    }

    /// <summary>
    /// An ARP request for the VIP from the VIP (RFC 5227's announcement, as <c>arping -U</c> and the kernel's own
    /// arp_notify send it), broadcast: every neighbour that has an entry for the VIP replaces its MAC address with ours.
    /// </summary>
    public static byte[] GratuitousArp(IPAddress vip, ReadOnlySpan<byte> mac)
    {
        ArgumentNullException.ThrowIfNull(vip);
        var address = vip.GetAddressBytes();
        var arp = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1); // hardware: Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(2), 0x0800); // protocol: IPv4
        arp[4] = MacLength;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(6), 1); // request
        mac.CopyTo(arp.AsSpan(8)); // sender MAC: ours
        address.CopyTo(arp.AsSpan(14)); // sender IP: the VIP
        // Target MAC 18..23 stays zero: unknown, as in any request.
        address.CopyTo(arp.AsSpan(24)); // target IP: the VIP too, which is what makes it an announcement
        return arp;
    }

    /// <summary>
    /// An unsolicited neighbour advertisement (RFC 4861 §7.2.6) for the VIP, from the VIP to all nodes, with the
    /// override flag (replace the MAC address you have) and our MAC address in a target link-layer address option.
    /// Hop limit 255, which receivers require (it proves the packet was not routed); the ICMPv6 checksum is ours to
    /// compute, as nothing below a packet socket does it.
    /// </summary>
    public static byte[] NeighbourAdvertisement(IPAddress vip, ReadOnlySpan<byte> mac)
    {
        ArgumentNullException.ThrowIfNull(vip);
        const int icmpLength = 32; // type, code, checksum, flags, target (24), then the option (8)
        var packet = new byte[40 + icmpLength];
        packet[0] = 0x60; // version 6, traffic class and flow label 0
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), icmpLength);
        packet[6] = 58; // next header: ICMPv6
        packet[7] = 255; // hop limit
        vip.GetAddressBytes().CopyTo(packet.AsSpan(8));
        AllNodes.GetAddressBytes().CopyTo(packet.AsSpan(24));
        var icmp = packet.AsSpan(40);
        icmp[0] = 136; // neighbour advertisement
        icmp[4] = 0x20; // override; not router, not solicited (a solicited flag to a multicast address is dropped)
        vip.GetAddressBytes().CopyTo(icmp[8..]);
        icmp[24] = 2; // option: target link-layer address
        icmp[25] = 1; // its length, in units of 8 bytes
        mac.CopyTo(icmp[26..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Icmpv6Checksum(packet));
        return packet;
    }

    /// <summary>
    /// Where a SOCK_DGRAM packet socket sends this (struct sockaddr_ll, linux/if_packet.h): the EtherType (network
    /// order), the interface index, and the destination MAC address.
    /// </summary>
    public SocketAddress Address(int interfaceIndex)
    {
        var address = new SocketAddress(AddressFamily.Packet, 20);
        var bytes = address.Buffer.Span;
        // 0..1: the family, written by SocketAddress.
        BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], EtherType);
        MemoryMarshal.Write(bytes[4..], in interfaceIndex);
        bytes[11] = (byte)Destination.Length;
        Destination.CopyTo(bytes[12..]);
        return address;
    }

    /// <summary>The ones' complement sum over the IPv6 pseudo-header and the ICMPv6 message (RFC 4443 §2.3, RFC 8200 §8.1).</summary>
    private static ushort Icmpv6Checksum(ReadOnlySpan<byte> packet)
    {
        var icmp = packet[40..];
        var sum = 0u;
        sum += Sum(packet.Slice(8, 32)); // source and destination addresses
        sum += (uint)icmp.Length; // upper-layer packet length (fits in 16 bits)
        sum += 58; // next header
        sum += Sum(icmp);
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    private static uint Sum(ReadOnlySpan<byte> bytes)
    {
        var sum = 0u;
        for (var i = 0; i + 1 < bytes.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
        }
        if (bytes.Length % 2 == 1)
        {
            sum += (uint)bytes[^1] << 8;
        }
        return sum;
    }
}
