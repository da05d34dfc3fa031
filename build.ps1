#!/usr/bin/env pwsh
# Thin wrapper over the same dotnet commands as test.sh / demo.sh, for users who have PowerShell.
# Native libraries: see README (Intel MKL or a system LAPACK; HiGHS comes from NuGet).
param(
    [ValidateSet('build', 'test', 'demo', 'publish', 'bench')]
    [string]$Task = 'build',
    [string]$Configuration = 'Release',
    [string]$Runtime = 'linux-x64'
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
switch ($Task) {
    'build'   { dotnet build GmmFlow.sln -c $Configuration }
    'test'    {
        dotnet build GmmFlow.sln -c $Configuration
        foreach ($provider in 'mkl', 'system') {
            $env:GMMFLOW_LAPACK = $provider
            dotnet test tests/GmmFlow.Tests -c $Configuration --no-build
            if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
        }
        Remove-Item Env:GMMFLOW_LAPACK
    }
    'demo'    { dotnet run --project src/GmmFlow.Cli -c $Configuration -- demo }
    'bench'   { dotnet run --project src/GmmFlow.Cli -c $Configuration -- bench }
    'publish' { dotnet publish src/GmmFlow.Cli -c $Configuration -r $Runtime -p:PublishAot=true }
}
exit $LASTEXITCODE
