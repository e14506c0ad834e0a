using System.CommandLine;
using Switchman.Commands;
using Switchman.Runtime;

InlineSocketCompletions.EnableUnlessSet();
NativeHeapRelease.ApplyUnlessTuned();

// The executable is a thin shell: every command lives in its own file and calls into the libraries.
var root = new RootCommand("Switchman: a highly available load balancer and cluster manager for REST services.")
{
    RunCommand.Create(),
    RunCommand.CreateWitness(),
    CheckCommand.Create(),
    DemoBackendCommand.Create(),
    StatusCommand.Create(),
    ConfigCommand.Create(),
    ServerCommand.Create(),
    MembersCommand.Create(),
    VipsCommand.Create(),
    ServiceCommand.Create(),
    NodeCommand.Create(),
    EventsCommand.Create(),
    ReloadCommand.Create(),
    TlsCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
