using System.Net;
using RingActors.Host.Benchmarks;

namespace RingActors.Host.Tests.Benchmarks;

public class TcpSocketsSpec
{
    // ss -tin (iproute2 6.1) on loopback while bench transport ran: both ends of one Akka.Remote connection, the seed
    // listening on 35303, the child's end on 50710, plus an unrelated connection and a listening-state-like line.
    private const string SsTin = """
        State  Recv-Q Send-Q              Local Address:Port    Peer Address:Port Process
        ESTAB  0      0      [::ffff:127.0.0.1]:35303 [::ffff:127.0.0.1]:50710
        	 bbr wscale:6,6 rto:204 rtt:0.747/1.183 ato:48 mss:65483 pmtu:65535 rcvmss:1256 advmss:65483 cwnd:16 ssthresh:13 bytes_sent:122482628 bytes_retrans:298261 bytes_acked:122184367 bytes_received:12910 segs_out:2038 segs_in:548 data_segs_out:2022 data_segs_in:36 send 11220647925bps lastsnd:28 lastrcv:172 lastack:20 delivered:2023 busy:720ms rwnd_limited:408ms(56.7%) retrans:0/7 dsack_dups:7 minrtt:0.006 snd_wnd:2486720
        ESTAB  392898 0      [::ffff:127.0.0.1]:50710 [::ffff:127.0.0.1]:35303
        	 bbr wscale:6,6 rto:212 rtt:11.111/11.8 ato:40 mss:65483 pmtu:65535 rcvmss:65483 advmss:65483 cwnd:16 bytes_sent:12910 bytes_acked:12911 bytes_received:122184367 segs_out:548 segs_in:2039 data_segs_out:36 data_segs_in:2022 delivered:37 app_limited busy:268ms rcv_rtt:0.186 rcv_space:4514053 minrtt:0.017 snd_wnd:2506112
        ESTAB  0      0      10.0.0.7:22 10.0.0.1:61000
        	 cubic wscale:7,7 rto:204 rtt:0.5/0.25 mss:1448 cwnd:10 bytes_sent:5000 bytes_acked:5001 bytes_received:700 segs_out:20 segs_in:18
        """;

    [Fact]
    public void Parse_must_read_the_endpoints_and_byte_counters_of_every_socket()
    {
        var sockets = TcpSockets.Parse(SsTin);

        Assert.Equal(3, sockets.Count);
        var seedEnd = sockets[0];
        Assert.Equal(35303, seedEnd.Local.Port);
        Assert.Equal(50710, seedEnd.Peer.Port);
        Assert.Equal(IPAddress.Loopback, seedEnd.Local.Address.MapToIPv4());

        // bytes_retrans:298261 must not be read as bytes_sent, nor bytes_acked as anything else.
        Assert.Equal(122482628, seedEnd.BytesSent);
        Assert.Equal(122184367, seedEnd.BytesAcked);
        Assert.Equal(12910, seedEnd.BytesReceived);
        Assert.Equal(new TcpSocket(IPEndPoint.Parse("10.0.0.7:22"), IPEndPoint.Parse("10.0.0.1:61000"), 5000, 5001, 700), sockets[2]);
    }

    [Fact]
    public void Parse_must_read_output_without_header_or_state_column()
    {
        // ss -tinH state established drops the header and the State column.
        var headless = string.Join('\n', SsTin.Split('\n').Skip(1).Select(line => line.StartsWith("ESTAB", StringComparison.Ordinal) ? line["ESTAB".Length..].TrimStart() : line));

        Assert.Equal(TcpSockets.Parse(SsTin), TcpSockets.Parse(headless));
    }

    [Fact]
    public void Parse_must_give_zero_counters_to_a_socket_without_an_info_line()
    {
        var sockets = TcpSockets.Parse("ESTAB 0 0 127.0.0.1:1 127.0.0.1:2\nESTAB 0 0 127.0.0.1:3 127.0.0.1:4\n\t bytes_received:9");

        Assert.Equal([0L, 9L], sockets.Select(s => s.BytesReceived));
        Assert.Equal([1, 3], sockets.Select(s => s.Local.Port));
    }

    [Fact]
    public void EndsOf_must_count_each_connection_once_at_the_owning_process()
    {
        var sockets = TcpSockets.Parse(SsTin);

        // The child listens on 40000 (nobody connected to it here) and reached the seed's 35303 from 50710.
        var childEnds = TcpSockets.EndsOf(sockets, ownPort: 40000, peerPort: 35303);
        var seedEnds = TcpSockets.EndsOf(sockets, ownPort: 35303, peerPort: 40000);

        Assert.Equal(50710, Assert.Single(childEnds).Local.Port);
        Assert.Equal(35303, Assert.Single(seedEnds).Local.Port);
        Assert.Equal(childEnds[0].BytesReceived, seedEnds[0].BytesAcked);
    }

    [Fact]
    public void Between_must_subtract_the_earlier_reading_of_the_same_end_and_count_new_ends_in_full()
    {
        var local = IPEndPoint.Parse("127.0.0.1:50710");
        var peer = IPEndPoint.Parse("127.0.0.1:35303");
        var other = IPEndPoint.Parse("127.0.0.1:50999");
        TcpSocket[] before = [new(local, peer, 100, 100, 1_000)];
        TcpSocket[] after = [new(local, peer, 150, 140, 9_000), new(other, peer, 7, 7, 70)];

        Assert.Equal(new TcpTraffic(57, 47, 8_070, 2), TcpSockets.Between(before, after));
    }

    [Fact]
    public void Flows_must_book_each_ends_bytes_from_its_owner_to_the_owner_of_the_other_end()
    {
        // ss -tinpH: two processes (pids 100 and 200), one connection 100 → 200's port, one 200 → 100's, and one end whose
        // other end is not listed (another machine's).
        const string before = """
            0 0 127.0.0.1:40000 127.0.0.1:5000 users:(("dotnet",pid=100,fd=1))
            	 bytes_sent:1000 bytes_acked:1000 bytes_received:10
            0 0 127.0.0.1:5000 127.0.0.1:40000 users:(("dotnet",pid=200,fd=1))
            	 bytes_sent:10 bytes_acked:10 bytes_received:1000
            """;
        const string after = """
            0 0 127.0.0.1:40000 127.0.0.1:5000 users:(("dotnet",pid=100,fd=1))
            	 bytes_sent:9000 bytes_acked:9000 bytes_received:30
            0 0 127.0.0.1:5000 127.0.0.1:40000 users:(("dotnet",pid=200,fd=1))
            	 bytes_sent:30 bytes_acked:30 bytes_received:9000
            0 0 127.0.0.1:41000 127.0.0.1:6000 users:(("dotnet",pid=200,fd=2))
            	 bytes_sent:500 bytes_acked:500 bytes_received:0
            0 0 127.0.0.1:6000 127.0.0.1:41000 users:(("dotnet",pid=100,fd=2))
            	 bytes_sent:7 bytes_acked:7 bytes_received:500
            0 0 127.0.0.1:42000 10.1.1.1:22 users:(("ssh",pid=300,fd=3))
            	 bytes_sent:99 bytes_acked:99 bytes_received:0
            """;

        var flows = TcpSockets.Flows(TcpSockets.Parse(before), TcpSockets.Parse(after));

        Assert.Equal(100, TcpSockets.Parse(after)[0].Pid);
        Assert.Equal(8000 + 7, flows[(100, 200)]);
        Assert.Equal(20 + 500, flows[(200, 100)]);
        Assert.Equal(2, flows.Count);
    }
}
