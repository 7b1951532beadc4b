// Durable entities on the worker, through DurableTask.Core's own entity dispatcher
// (TaskEntityDispatcher, the "core format" scheduler of docs/storage-layout.md §9), and
// client commands over the provider's native entity queries, so the gateway's entity
// routes can be compared with what the real reader answers.
//
// The worker needs UseSeparateQueueForEntityWorkItems (Hub.Service): without it
// TaskHubWorker.AddTaskEntities refuses to register entities.
//
// Client commands (dispatched from ClientCommands.RunAsync):
//   entity-get NAME KEY                 GetEntityAsync(includeState: true): one JSON line
//                                       {"name","key","lastModifiedTime","state"} or "null" (exit 1)
//   entity-list [PREFIX] [STATE] [TOP]  QueryEntitiesAsync, following tokens: one JSON line per entity;
//                                       PREFIX "" = all, STATE "true" fetches the state
//   entity-signal NAME KEY OP [INPUT]   ClientEntityHelpers.EmitOperationSignal (the core client) sent
//                                       to the entity's control queue; INPUT is JSON text
//
// The counter entity (name "counter") keeps an integer, or any JSON value after "set":
//   add N     state += N (state absent = 0)      get     returns the state
//   set V     state = V (any JSON)               delete  state = null (the entity stops existing)
//   fail      throws (the operation fails, the state stays)

using DurableTask.Core;
using DurableTask.Core.Entities;
using DurableTask.Core.Entities.OperationFormat;
using Newtonsoft.Json.Linq;

namespace InteropWorker;

sealed class CounterEntity : TaskEntity
{
    public override Task<EntityBatchResult> ExecuteOperationBatchAsync(EntityBatchRequest batch)
    {
        string? state = batch.EntityState;
        var results = new List<OperationResult>();
        foreach (OperationRequest op in batch.Operations ?? new List<OperationRequest>())
        {
            var started = DateTime.UtcNow;
            var result = new OperationResult { StartTimeUtc = started };
            try
            {
                switch (op.Operation)
                {
                    case "add":
                        long current = state is null ? 0 : Json.Parse(state)!.Value<long>();
                        long delta = op.Input is null ? 1 : Json.Parse(op.Input)!.Value<long>();
                        state = (current + delta).ToString(System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case "set":
                        state = op.Input is null ? null : Json.Text(Json.Parse(op.Input));
                        break;
                    case "get":
                        result.Result = state;
                        break;
                    case "delete":
                        state = null;
                        break;
                    default:
                        throw new InvalidOperationException($"counter: unknown operation '{op.Operation}'");
                }
            }
            catch (Exception e)
            {
                result.ErrorMessage = e.Message;
                result.FailureDetails = new FailureDetails(e);
            }
            result.EndTimeUtc = DateTime.UtcNow;
            results.Add(result);
        }
        return Task.FromResult(new EntityBatchResult
        {
            Results = results,
            Actions = new List<OperationAction>(),
            EntityState = state,
        });
    }
}

static class Entities
{
    public static void Register(TaskHubWorker worker)
        => worker.AddTaskEntities(new NameValueObjectCreator<TaskEntity>("counter", "", typeof(CounterEntity)));

    static readonly Dictionary<string, (int Min, int Max)> Arity = new()
    {
        ["entity-get"] = (2, 2), ["entity-list"] = (0, 3), ["entity-signal"] = (3, 4),
    };

    public static bool IsCommand(string command) => Arity.ContainsKey(command);

    static JObject Metadata(EntityBackendQueries.EntityMetadata m) => new()
    {
        ["name"] = m.EntityId.Name,
        ["key"] = m.EntityId.Key,
        ["lastModifiedTime"] = Json.Time(m.LastModifiedTime),
        ["backlogQueueSize"] = m.BacklogQueueSize,
        ["lockedBy"] = m.LockedBy,
        ["state"] = m.SerializedState,
    };

    public static async Task<int> RunAsync(Options o)
    {
        var (min, max) = Arity[o.Command];
        if (o.Args.Count < min || o.Args.Count > max)
            throw new UsageException($"{o.Command}: expected {min}..{max} arguments, got {o.Args.Count}");
        if (!await Hub.ExistsAsync(o))
        {
            Console.Error.WriteLine($"interop-worker: task hub '{o.Hub}' does not exist");
            return 3;
        }
        using var loggers = Hub.Logging(o.LogLevel);
        var service = Hub.Service(o, await Hub.PartitionsAsync(o), loggers);
        var queries = ((IEntityOrchestrationService) service).EntityBackendQueries
                      ?? throw new InvalidOperationException("the provider has no entity queries");
        switch (o.Command)
        {
            case "entity-get":
            {
                var m = await queries.GetEntityAsync(new EntityId(o.Args[0], o.Args[1]), includeState: true);
                if (m is null)
                {
                    Console.Out.WriteLine("null");
                    return 1;
                }
                Console.Out.WriteLine(Json.Text(Metadata(m.Value)));
                return 0;
            }
            case "entity-list":
            {
                string? prefix = o.Args.Count > 0 && o.Args[0] != "" ? o.Args[0] : null;
                bool state = o.Args.Count > 1 && o.Args[1] == "true";
                int top = o.Args.Count > 2 ? int.Parse(o.Args[2]) : 100;
                string? token = null;
                int pages = 0;
                do
                {
                    var r = await queries.QueryEntitiesAsync(new EntityBackendQueries.EntityQuery
                    {
                        InstanceIdStartsWith = prefix,
                        IncludeState = state,
                        PageSize = top,
                        ContinuationToken = token,
                    }, CancellationToken.None);
                    foreach (var m in r.Results)
                        Console.Out.WriteLine(Json.Text(Metadata(m)));
                    token = r.ContinuationToken;
                    pages++;
                    Console.Error.WriteLine($"interop-worker: page {pages}: {r.Results.Count()} entities, token {token ?? "(none)"}");
                } while (token != null);
                return 0;
            }
            default: // entity-signal
            {
                var target = new OrchestrationInstance { InstanceId = new EntityId(o.Args[0], o.Args[1]).ToString() };
                string? input = o.Args.Count > 3 ? Json.Text(Json.Parse(o.Args[3])) : null;
                EntityMessageEvent ev = ClientEntityHelpers.EmitOperationSignal(target, Guid.NewGuid(), o.Args[2], input, null);
                await service.SendTaskOrchestrationMessageAsync(ev.AsTaskMessage());
                Console.Out.WriteLine(target.InstanceId);
                return 0;
            }
        }
    }
}
