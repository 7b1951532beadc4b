// The orchestrations and activities the gateway's interop tests start by name.
//
// Every orchestration derives from JsonOrchestration (below), a thin layer over the
// framework's raw TaskOrchestration base: inputs, outputs, event payloads and custom
// status are plain JSON (no "$type" members), and an orchestration that never sets a
// custom status leaves it null, as Durable Functions does.  The framework's typed base
// would store the text "null" as custom status after every episode.

using System.Collections.Concurrent;
using DurableTask.Core;
using DurableTask.Core.Common;
using DurableTask.Core.Exceptions;
using Newtonsoft.Json.Linq;

namespace InteropWorker;

/// <summary>The registration table: orchestration and activity names (version "").</summary>
static class Registry
{
    public static readonly (string Name, Type Type)[] Orchestrations =
    {
        ("E1_HelloSequence", typeof(HelloSequence)),
        ("WaitForEvent", typeof(WaitForEvent)),
        ("CustomStatusTimer", typeof(CustomStatusTimer)),
        ("FailOnce", typeof(FailOnce)),
        ("AlwaysFail", typeof(AlwaysFail)),
        ("ContinueAsNewCounter", typeof(ContinueAsNewCounter)),
        ("ParentOrchestration", typeof(ParentOrchestration)),
        ("FailOnceTree", typeof(FailOnceTree)),
        ("LargePayload", typeof(LargePayload)),
        ("Echo", typeof(Echo)),
    };

    public static readonly (string Name, Type Type)[] Activities =
    {
        ("E1_SayHello", typeof(SayHello)),
        ("FlakyActivity", typeof(FlakyActivity)),
    };

    public static void Register(TaskHubWorker worker)
    {
        foreach (var (name, type) in Orchestrations)
            worker.AddTaskOrchestrations(new NameValueObjectCreator<TaskOrchestration>(name, "", type));
        foreach (var (name, type) in Activities)
            worker.AddTaskActivities(new NameValueObjectCreator<TaskActivity>(name, "", type));
    }
}

/// <summary>
/// Raw-JSON orchestration base.  Subclasses implement RunAsync over JToken values.
/// Failures are reported the way the framework's typed base reports them under the
/// default ErrorPropagationMode.SerializeExceptions (OrchestrationFailureException with
/// the message as reason and the serialized cause as details).
/// </summary>
abstract class JsonOrchestration : TaskOrchestration
{
    /// <summary>Custom status; null means "never set" (the Instances column stays null).</summary>
    protected JToken? CustomStatus { get; set; }

    protected abstract Task<JToken?> RunAsync(OrchestrationContext context, JToken? input);

    protected virtual void OnEvent(OrchestrationContext context, string name, JToken? payload) { }

    public override async Task<string> Execute(OrchestrationContext context, string input)
    {
        // Plain JSON for what the orchestration sends (activity inputs, sub-orchestration inputs).
        context.MessageDataConverter = Json.Converter;
        JToken? result;
        try
        {
            result = await RunAsync(context, Json.Parse(input));
        }
        catch (Exception e) when (!Utils.IsFatal(e) && !Utils.IsExecutionAborting(e)
                                  && e is not OrchestrationFailureException)
        {
            throw new OrchestrationFailureException(e.Message, Utils.SerializeCause(e, Json.Converter));
        }
        return Json.Text(result);
    }

    public override void RaiseEvent(OrchestrationContext context, string name, string input)
        => OnEvent(context, name, Json.Parse(input));

    public override string? GetStatus() => CustomStatus is null ? null : Json.Text(CustomStatus);
}

/// <summary>E1_HelloSequence: the Durable Functions "function chaining" sample.</summary>
sealed class HelloSequence : JsonOrchestration
{
    protected override async Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
    {
        var outputs = new JArray();
        foreach (var city in new[] { "Tokyo", "Seattle", "London" })
            outputs.Add(await context.ScheduleTask<string>("E1_SayHello", "", city));
        return outputs;
    }
}

sealed class SayHello : TaskActivity<string, string>
{
    protected override string Execute(TaskContext context, string name) => $"Hello {name}!";
}

/// <summary>WaitForEvent: completes with the payload of the first "Approval" event.</summary>
sealed class WaitForEvent : JsonOrchestration
{
    // Created with the instance, before the first await, so an early event is never dropped.
    readonly TaskCompletionSource<JToken?> approval = new();

    protected override async Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
        => await approval.Task;

    protected override void OnEvent(OrchestrationContext context, string name, JToken? payload)
    {
        if (name == "Approval")
            approval.TrySetResult(payload);
    }
}

/// <summary>CustomStatusTimer: custom status = input (or {"stage":"sleeping"}), then a durable timer.</summary>
sealed class CustomStatusTimer : JsonOrchestration
{
    protected override async Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
    {
        bool hasInput = input is not null && input.Type != JTokenType.Null;
        CustomStatus = hasInput ? input : new JObject { ["stage"] = "sleeping" };
        double seconds = 2;
        if (input is JObject o && o["seconds"] is JToken s
            && (s.Type == JTokenType.Integer || s.Type == JTokenType.Float))
            seconds = s.Value<double>();
        await context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(seconds), "timer");
        return "done";
    }
}

/// <summary>FailOnce: fails the first time (FlakyActivity throws), completes with "recovered" after a rewind.</summary>
sealed class FailOnce : JsonOrchestration
{
    protected override async Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
    {
        await context.ScheduleTask<string>("FlakyActivity", "", context.OrchestrationInstance.InstanceId);
        return "recovered";
    }
}

sealed class FlakyActivity : TaskActivity<string, string>
{
    /// <summary>Executions so far, per instance id (process lifetime).</summary>
    public static readonly ConcurrentDictionary<string, int> Executions = new();

    protected override string Execute(TaskContext context, string instanceId)
    {
        int n = Executions.AddOrUpdate(context.OrchestrationInstance.InstanceId, 1, (_, c) => c + 1);
        if (n == 1)
            throw new InvalidOperationException("FlakyActivity failed on purpose");
        return "ok";
    }
}

/// <summary>AlwaysFail: throws "boom".</summary>
sealed class AlwaysFail : JsonOrchestration
{
    protected override Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
        => throw new InvalidOperationException("boom");
}

/// <summary>ContinueAsNewCounter: n &lt; 3 → continue-as-new with n+1, else return n.</summary>
sealed class ContinueAsNewCounter : JsonOrchestration
{
    protected override Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
    {
        int n = input is not null && input.Type == JTokenType.Integer ? input.Value<int>() : 0;
        if (n < 3)
        {
            context.ContinueAsNew(n + 1);
            return Task.FromResult<JToken?>(null);
        }
        return Task.FromResult<JToken?>(n);
    }
}

/// <summary>ParentOrchestration: runs E1_HelloSequence as a sub-orchestration and returns its result.</summary>
sealed class ParentOrchestration : JsonOrchestration
{
    protected override async Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
        => await context.CreateSubOrchestrationInstance<JToken>("E1_HelloSequence", "", null);
}

/// <summary>
/// LargePayload: output = the input string reversed, followed by 100 KiB of 'x', so the
/// output exceeds the 64 KB queue-message and table-property limits whatever the input.
/// A non-string input is used through its JSON text.
/// </summary>
sealed class LargePayload : JsonOrchestration
{
    public const int SuffixLength = 100 * 1024;

    protected override Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
    {
        string s = input is null ? "" : input.Type == JTokenType.String ? input.Value<string>()! : Json.Text(input);
        var chars = s.ToCharArray();
        Array.Reverse(chars);
        return Task.FromResult<JToken?>(new string(chars) + new string('x', SuffixLength));
    }
}

/// <summary>Echo: returns its input unchanged.</summary>
sealed class Echo : JsonOrchestration
{
    protected override Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
        => Task.FromResult(input);
}
