using Mono.Cecil;

namespace RingActors.Actors.Tests;

/// <summary>
/// The folders of src/Actors are layers: each namespace uses only those below it, as read from the compiled assembly (types
/// in signatures, fields, attributes and every instruction of every method body), and each source file sits in the folder
/// of its namespace. A cycle would show here before it shows in a reader's head.
/// </summary>
public class NamespaceLayeringSpec
{
    private const string Root = "RingActors.Actors";

    /// <summary>Bottom to top: a namespace may use those to its left only.</summary>
    private static readonly string[] Layers =
    [
        $"{Root}.Configuration",
        $"{Root}.Faults",
        $"{Root}.Protocol",
        $"{Root}.Serialization",
        $"{Root}.Devices",
        $"{Root}.Cluster",
        Root,
    ];

    [Fact]
    public void Actors_namespaces_must_only_use_the_layers_below_them()
    {
        var graph = DependencyGraph();
        var violations = graph
            .SelectMany(kv => kv.Value.Select(to => (From: kv.Key, To: to.Key, Example: to.Value)))
            .Where(e => Array.IndexOf(Layers, e.To) >= Array.IndexOf(Layers, e.From))
            .Select(e => $"{e.From} → {e.To} ({e.Example})")
            .ToList();

        Assert.True(violations.Count == 0, $"upward or sideways dependencies: {string.Join("; ", violations)}");
    }

    [Fact]
    public void Actors_namespaces_must_be_the_known_layers()
    {
        var graph = DependencyGraph();
        Assert.Empty(graph.Keys.Except(Layers));

        // The graph is not empty by accident: the supervisor does use the devices, the devices the protocol.
        Assert.Contains($"{Root}.Devices", graph[Root].Keys);
        Assert.Contains($"{Root}.Protocol", graph[$"{Root}.Devices"].Keys);
    }

    [Fact]
    public void Actors_source_files_must_sit_in_the_folder_of_their_namespace()
    {
        var source = Path.Combine(RepoRoot(), "src", "Actors");
        var misplaced = new List<string>();
        foreach (var file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal))
            {
                continue;
            }

            var folder = Path.GetDirectoryName(relative)!.Replace(Path.DirectorySeparatorChar, '.');
            var expected = folder.Length == 0 ? Root : $"{Root}.{folder}";
            if (!File.ReadLines(file).Any(l => l == $"namespace {expected};"))
            {
                misplaced.Add($"{relative} (expected namespace {expected})");
            }
        }

        Assert.Empty(misplaced);
    }

    /// <summary>Namespace → the other RingActors.Actors namespaces its types use, each with one example (user uses used).</summary>
    private static Dictionary<string, Dictionary<string, string>> DependencyGraph()
    {
        using var module = ModuleDefinition.ReadModule(typeof(Protocol.IRingMessage).Assembly.Location);
        var graph = new Dictionary<string, Dictionary<string, string>>();
        foreach (var type in module.GetTypes())
        {
            var from = NamespaceOf(type);
            if (from is null || !from.StartsWith(Root, StringComparison.Ordinal))
            {
                continue;
            }

            var uses = graph.TryGetValue(from, out var set) ? set : graph[from] = [];
            foreach (var used in TypesUsedBy(type).Where(t => t is not null).SelectMany(Flatten))
            {
                if (NamespaceOf(used) is { } to && to != from && to.StartsWith(Root, StringComparison.Ordinal) && !to.StartsWith("<", StringComparison.Ordinal))
                {
                    uses.TryAdd(to, $"{type.FullName} uses {used.FullName}");
                }
            }
        }

        return graph;
    }

    private static IEnumerable<TypeReference> TypesUsedBy(TypeDefinition type)
    {
        if (type.BaseType is not null)
        {
            yield return type.BaseType;
        }

        foreach (var i in type.Interfaces)
        {
            yield return i.InterfaceType;
        }

        foreach (var a in type.CustomAttributes)
        {
            yield return a.AttributeType;
        }

        foreach (var f in type.Fields)
        {
            yield return f.FieldType;
        }

        foreach (var p in type.Properties)
        {
            yield return p.PropertyType;
        }

        foreach (var m in type.Methods)
        {
            yield return m.ReturnType;
            foreach (var p in m.Parameters)
            {
                yield return p.ParameterType;
            }

            if (!m.HasBody)
            {
                continue;
            }

            foreach (var v in m.Body.Variables)
            {
                yield return v.VariableType;
            }

            foreach (var instruction in m.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t:
                        yield return t;
                        break;
                    case MethodReference mr:
                        yield return mr.DeclaringType;
                        yield return mr.ReturnType;
                        foreach (var p in mr.Parameters)
                        {
                            yield return p.ParameterType;
                        }

                        break;
                    case FieldReference fr:
                        yield return fr.DeclaringType;
                        yield return fr.FieldType;
                        break;
                }
            }
        }
    }

    /// <summary>A type and, for a generic instance (a list of DeviceStats), each of its arguments, recursively.</summary>
    private static IEnumerable<TypeReference> Flatten(TypeReference type)
    {
        yield return type;
        var element = type;
        while (element is TypeSpecification spec and not GenericInstanceType)
        {
            element = spec.ElementType;
        }

        if (element is GenericInstanceType generic)
        {
            foreach (var argument in generic.GenericArguments.SelectMany(Flatten))
            {
                yield return argument;
            }
        }
    }

    /// <summary>The namespace a type is declared in (nested and generic types by their outermost element type).</summary>
    private static string? NamespaceOf(TypeReference type)
    {
        while (true)
        {
            switch (type)
            {
                case TypeSpecification spec:
                    type = spec.ElementType;
                    continue;
                case GenericParameter:
                    return null;
            }

            if (type.DeclaringType is not null)
            {
                type = type.DeclaringType;
                continue;
            }

            return type.Namespace;
        }
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RingActors.sln")))
        {
            dir = dir.Parent;
        }

        return dir!.FullName;
    }
}
