using System.Runtime.CompilerServices;

// The tests drive the CLI in-process through CliApp.Run (exit codes, output files) rather than by
// spawning processes. Declared in source because project files are owned by the build lead; the
// lead may move it into GmmFlow.Cli.csproj as an <InternalsVisibleTo> item.
[assembly: InternalsVisibleTo("GmmFlow.Tests")]
