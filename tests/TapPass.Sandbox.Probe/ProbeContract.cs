using System.Text.Json.Serialization;

namespace TapPass.Sandbox.Probe;

/// <summary>What the probe does, in order. Shared (linked) by the probe and the sandbox tests.</summary>
internal sealed class ProbeRequest
{
    public List<ProbeStep> Steps { get; set; } = [];
}

/// <summary>One operation. <see cref="Thread"/> chooses where it runs: main, early (a thread started before any Secure) or pool.</summary>
internal sealed class ProbeStep
{
    /// <summary>secure, current, write, write_managed, read, list, exec, connect, bind, udp, block_signals, unblock_signals.</summary>
    public string Kind { get; set; } = "";

    public string? Path { get; set; }

    public string? Program { get; set; }

    public List<string>? Args { get; set; }

    public int Port { get; set; }

    public string Thread { get; set; } = "main";

    public ProbeSecure? Secure { get; set; }
}

internal sealed class ProbeSecure
{
    /// <summary>observer, worker, standard, full; null for the default profile.</summary>
    public string? Tier { get; set; }

    public string? Workspace { get; set; }

    public string? Gateway { get; set; }

    public List<int>? AllowedTcpPorts { get; set; }

    /// <summary>null keeps the default list.</summary>
    public List<string>? AllowedPrograms { get; set; }

    public List<string>? ExtraReadPaths { get; set; }

    public List<string>? ExtraWritePaths { get; set; }

    public bool BestEffort { get; set; }
}

internal sealed class ProbeStepResult
{
    public string Kind { get; set; } = "";

    public bool Ok { get; set; }

    /// <summary>The errno of a failed system call, when known.</summary>
    public int? Errno { get; set; }

    public string? Error { get; set; }

    public string? Output { get; set; }

    public ProbeReport? Report { get; set; }
}

internal sealed class ProbeReport
{
    public string Tier { get; set; } = "";

    public string Profile { get; set; } = "";

    public bool Enforced { get; set; }

    public int AbiVersion { get; set; }

    public int Layers { get; set; }

    public int RestrictedThreads { get; set; }

    public List<string> Rules { get; set; } = [];

    public List<string> NotEnforced { get; set; } = [];

    public List<string> Notes { get; set; } = [];
}

internal sealed class ProbeResponse
{
    public int ThreadsBeforeSecure { get; set; }

    public List<ProbeStepResult> Results { get; set; } = [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(ProbeRequest))]
[JsonSerializable(typeof(ProbeResponse))]
internal sealed partial class ProbeJsonContext : JsonSerializerContext
{
}
