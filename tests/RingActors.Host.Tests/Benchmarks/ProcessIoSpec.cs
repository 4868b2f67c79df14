using RingActors.Host.Benchmarks;

namespace RingActors.Host.Tests.Benchmarks;

public class ProcessIoSpec
{
    [Fact]
    public void Parse_must_read_rchar_and_wchar_of_proc_pid_io()
    {
        const string io = "rchar: 198397\nwchar: 65\nsyscr: 180\nsyscw: 2\nread_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n";

        Assert.Equal(new ProcessIo(198397, 65), ProcessIo.Parse(io));
        Assert.Equal(new ProcessIo(198000, 60), ProcessIo.Parse(io) - new ProcessIo(397, 5));
    }

    [Fact]
    public void Read_must_read_this_process_and_refuse_one_that_does_not_exist()
    {
        Assert.NotNull(ProcessIo.Read(Environment.ProcessId));
        Assert.Null(ProcessIo.Read(int.MaxValue));
    }
}
