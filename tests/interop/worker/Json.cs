// JSON helpers shared by the orchestrations and the client subcommands.

using System.Globalization;
using DurableTask.Core;
using DurableTask.Core.Serializing;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace InteropWorker;

static class Json
{
    /// <summary>
    /// Plain JSON, as Durable Functions writes it: no "$type" members, and dates left as
    /// strings (the framework's default converter has TypeNameHandling.Objects).
    /// </summary>
    public static readonly JsonSerializerSettings Settings = new()
    {
        TypeNameHandling = TypeNameHandling.None,
        DateParseHandling = DateParseHandling.None,
    };

    public static readonly JsonDataConverter Converter = new(Settings);

    /// <summary>Parses JSON text without turning date-like strings into dates. null → null.</summary>
    public static JToken? Parse(string? text)
    {
        if (text is null)
            return null;
        using var reader = new JsonTextReader(new StringReader(text)) { DateParseHandling = DateParseHandling.None };
        var token = JToken.ReadFrom(reader);
        if (reader.Read() && reader.TokenType != JsonToken.Comment)
            throw new JsonReaderException("additional text after the JSON value");
        return token;
    }

    /// <summary>Like Parse, but text that is not JSON comes back as a JSON string.</summary>
    public static JToken? ParseOrString(string? text)
    {
        if (text is null)
            return null;
        try { return Parse(text); }
        catch (JsonReaderException) { return new JValue(text); }
    }

    /// <summary>Compact JSON text of a value; null → "null".</summary>
    public static string Text(JToken? token)
        => token is null ? "null" : token.ToString(Formatting.None);

    public static string Time(DateTime t)
    {
        if (t == default)
            return "";
        var utc = t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc);
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// One status line.  input, output and customStatus are the stored JSON texts parsed
    /// back to values (a failed instance's output is plain text and stays a string);
    /// the *Raw members keep the exact stored text for byte-level comparisons.
    /// </summary>
    public static JObject Status(OrchestrationState s)
    {
        var o = new JObject
        {
            ["instanceId"] = s.OrchestrationInstance?.InstanceId,
            ["executionId"] = s.OrchestrationInstance?.ExecutionId,
            ["name"] = s.Name,
            ["version"] = s.Version,
            ["runtimeStatus"] = s.OrchestrationStatus.ToString(),
            ["input"] = ParseOrString(s.Input),
            ["output"] = ParseOrString(s.Output),
            ["customStatus"] = ParseOrString(s.Status),
            ["createdTime"] = Time(s.CreatedTime),
            ["lastUpdatedTime"] = Time(s.LastUpdatedTime),
            ["completedTime"] = Time(s.CompletedTime),
            ["inputRaw"] = s.Input,
            ["outputRaw"] = s.Output,
            ["customStatusRaw"] = s.Status,
        };
        if (s.FailureDetails is not null)
            o["failureDetails"] = new JObject
            {
                ["errorType"] = s.FailureDetails.ErrorType,
                ["errorMessage"] = s.FailureDetails.ErrorMessage,
            };
        return o;
    }
}
