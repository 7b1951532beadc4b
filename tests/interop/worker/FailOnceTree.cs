// FailOnceTree: a tree of sub-orchestrations whose leaves are FailOnce, so the whole tree
// fails through SubOrchestrationInstanceFailed the first time and completes with
// "recovered" after a rewind.  It exercises the provider's rewind recursion: the rewind
// walks down from the root to the failed leaves and sends its message to the leaves only.
//
// Input (optional): {"depth": D, "children": C}, default depth 1 and one child.
//   depth 1: C FailOnce sub-orchestrations;
//   depth D > 1: C FailOnceTree sub-orchestrations of depth D - 1.
// Child ids are "{parent id}-{i}" (i from 0), so a test knows every id in advance.

using DurableTask.Core;
using Newtonsoft.Json.Linq;

namespace InteropWorker;

sealed class FailOnceTree : JsonOrchestration
{
    protected override async Task<JToken?> RunAsync(OrchestrationContext context, JToken? input)
    {
        int depth = 1, children = 1;
        if (input is JObject o)
        {
            if (o["depth"] is JToken d && d.Type == JTokenType.Integer)
                depth = Math.Max(1, d.Value<int>());
            if (o["children"] is JToken c && c.Type == JTokenType.Integer)
                children = Math.Clamp(c.Value<int>(), 1, 8);
        }
        string id = context.OrchestrationInstance.InstanceId;
        var calls = new List<Task<JToken>>();
        for (int i = 0; i < children; i++)
        {
            string childId = $"{id}-{i}";
            calls.Add(depth == 1
                ? context.CreateSubOrchestrationInstance<JToken>("FailOnce", "", childId, null)
                : context.CreateSubOrchestrationInstance<JToken>(
                    "FailOnceTree", "", childId, new JObject { ["depth"] = depth - 1, ["children"] = children }));
        }
        JToken[] results = await Task.WhenAll(calls);
        return results.All(r => r.Type == JTokenType.String && r.Value<string>() == "recovered")
            ? "recovered"
            : new JArray(results);
    }
}
