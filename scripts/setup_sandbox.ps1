# SPDX-License-Identifier: MIT
<#
.SYNOPSIS
Installs the pinned, verified MXC executor (wxc-exec.exe) into cordon's cache and sets MXC_BIN_DIR (Windows).

.DESCRIPTION
The Windows counterpart of scripts/setup_sandbox.sh, with the same behaviour. The pins are read
from include\cordon\pins.hpp (the one place they are written down). Each SDK is fetched with
`npm pack` into a private temporary folder; the tarball and every executor are checked against
their pinned SHA-256 and size *before* anything is moved into
  $env:CORDON_MXC_CACHE, else $env:LOCALAPPDATA\cordon\mxc\<sdk>\bin\<arch>\<executor>
(the npm package's own layout, so MXC_BIN_DIR = <cache>\<sdk>\bin). Files already in place are
re-hashed and kept when they match: a second run does no network work. A failure prints what to do
and exits 0 unless -Strict. MXC_BIN_DIR is set for this session and, unless -NoPersist, for the user.

.PARAMETER Sdk
SDK versions to install (default: cordon's default_sdk_version from include\cordon\capabilities.hpp,
1.0.1; -Sdk 0.9.0 installs the previous one). MXC_BIN_DIR names the first one.
.PARAMETER Platform
linux, win32 or darwin (default: win32).
.PARAMETER Arch
x64 or arm64 in any spelling (AMD64, ARM64, ...; default: this machine).
.PARAMETER Strict
Exit 1 on any failure instead of printing what to do and exiting 0.
.PARAMETER PrintEnv
Write only `$env:MXC_BIN_DIR = '...'` to the output (for Invoke-Expression).
.PARAMETER ListPins
Print the pin rows this script reads, tab-separated, and exit.
.PARAMETER NoPersist
Do not store MXC_BIN_DIR in the user's environment.

.EXAMPLE
powershell -ExecutionPolicy Bypass -File scripts\setup_sandbox.ps1
.EXAMPLE
powershell -ExecutionPolicy Bypass -File scripts\setup_sandbox.ps1 -Sdk 0.9.0 -Strict
.EXAMPLE
powershell -ExecutionPolicy Bypass -File scripts\setup_sandbox.ps1 -Sdk 1.0.1,0.9.0,0.7.0 -Strict
#>
[CmdletBinding()]
param(
    [string[]]$Sdk = @(),
    [ValidateSet('linux', 'win32', 'darwin')][string[]]$Platform = @('win32'),
    [string[]]$Arch = @(),
    [switch]$Strict,
    [switch]$PrintEnv,
    [switch]$ListPins,
    [switch]$NoPersist
)
Set-StrictMode -Version 3
$ErrorActionPreference = 'Stop'

$root = Split-Path -Parent $PSScriptRoot
$pinsHeader = Join-Path $root 'include\cordon\pins.hpp'
$capsHeader = Join-Path $root 'include\cordon\capabilities.hpp'
$cacheRoot = if ($env:CORDON_MXC_CACHE) { $env:CORDON_MXC_CACHE } else { Join-Path $env:LOCALAPPDATA 'cordon\mxc' }

function Log([string]$Message) { [Console]::Error.WriteLine("setup_sandbox: $Message") }

# A failure: say what to do; exit 1 only with -Strict (the script is safe to run in any setup step).
function Fail([string]$Message) {
    Log "ERROR: $Message"
    if ($Strict) { exit 1 }
    Log "continuing without a verified executor (cordon will report 'unavailable'); rerun with -Strict to make this fatal"
    exit 0
}

function Normalize-Arch([string]$Name) {  # the same spellings as cordon::normalize_arch
    switch ($Name.ToLowerInvariant()) {
        { $_ -in 'x64', 'amd64', 'x86_64' } { return 'x64' }
        { $_ -in 'arm64', 'aarch64' } { return 'arm64' }
        default { return $null }
    }
}

function Get-Sha256([string]$Path) { (Get-FileHash -Algorithm SHA256 -LiteralPath $Path).Hash.ToLowerInvariant() }

# The file's digest and size are the pinned ones.
function Test-Pinned([string]$Path, [string]$Sha, [long]$Size) {
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return $false }
    if ((Get-Item -LiteralPath $Path).Length -ne $Size) { return $false }
    return (Get-Sha256 $Path) -eq $Sha
}

if (-not (Test-Path -LiteralPath $pinsHeader)) { Fail "cannot read the pin manifest $pinsHeader (run this script from a cordon source tree)" }

# --- the pin manifest, parsed from the header's rows (the same rows setup_sandbox.sh reads) ---
$executorRe = '^\s*\{"([0-9][^"]*)", "(linux|win32|darwin)", Arch::(x64|arm64), "([^"]+)", "([0-9a-f]{64})", ([0-9]+)\},\s*$'
$releaseRe = '^\s*\{"([0-9][^"]*)", "([0-9a-f]*)", ([0-9]+), "([^"]*)"\},\s*$'
$executors = @()
$releases = @()
foreach ($line in Get-Content -LiteralPath $pinsHeader) {
    if ($line -cmatch $executorRe) {
        $executors += [pscustomobject]@{ Sdk = $Matches[1]; Os = $Matches[2]; Arch = $Matches[3]; File = $Matches[4]; Sha = $Matches[5]; Size = [long]$Matches[6] }
    } elseif ($line -cmatch $releaseRe) {
        $releases += [pscustomobject]@{ Sdk = $Matches[1]; Sha = $Matches[2]; Size = [long]$Matches[3]; Contracts = $Matches[4] }
    }
}
if ($ListPins) {
    foreach ($r in $releases) { "release`t$($r.Sdk)`t$($r.Sha)`t$($r.Size)`t$($r.Contracts)" }
    foreach ($e in $executors) { "executor`t$($e.Sdk)`t$($e.Os)`t$($e.Arch)`t$($e.File)`t$($e.Sha)`t$($e.Size)" }
    exit 0
}
if ($executors.Count -eq 0 -or $releases.Count -eq 0) { Fail "no pin rows found in $pinsHeader" }

if ($Sdk.Count -eq 0) {
    $default = Select-String -LiteralPath $capsHeader -Pattern 'default_sdk_version = "([^"]+)"' | Select-Object -First 1
    $Sdk = @(if ($default) { $default.Matches[0].Groups[1].Value } else { '1.0.1' })
}
if ($Arch.Count -eq 0) {
    $reported = if ($env:PROCESSOR_ARCHITEW6432) { $env:PROCESSOR_ARCHITEW6432 } else { $env:PROCESSOR_ARCHITECTURE }
    $a = Normalize-Arch $reported
    if (-not $a) { Fail "no MXC executor is published for CPU architecture '$reported' (only x64 and arm64)" }
    $Arch = @($a)
} else {
    $Arch = @(foreach ($name in $Arch) {
            $a = Normalize-Arch $name
            if (-not $a) { Log "unknown -Arch '$name' (x64 or arm64)"; exit 2 }
            $a
        })
}

# --- which files are wanted, and which are not yet in place ---
$wanted = @()
foreach ($v in $Sdk) {
    $release = $releases | Where-Object { $_.Sdk -eq $v } | Select-Object -First 1
    if (-not $release) { Fail "SDK version '$v' is not pinned in include\cordon\pins.hpp (pinned: $(($releases | Where-Object { $_.Sha } | ForEach-Object { $_.Sdk }) -join ', '))" }
    if (-not $release.Sha) { Fail "SDK $v is recorded but not installable: its executors accept none of cordon's config contracts" }
    foreach ($p in $Platform) {
        foreach ($a in $Arch) {
            $row = $executors | Where-Object { $_.Sdk -eq $v -and $_.Os -eq $p -and $_.Arch -eq $a } | Select-Object -First 1
            if (-not $row) { Fail "cordon pins no $p/$a executor of SDK $v (the package ships none)" }
            $wanted += $row
        }
    }
}

$missing = @()
foreach ($w in $wanted) {
    $dest = Join-Path $cacheRoot "$($w.Sdk)\bin\$($w.Arch)\$($w.File)"
    if (Test-Pinned $dest $w.Sha $w.Size) {
        Log "ok: $dest (SDK $($w.Sdk), sha256 $($w.Sha))"
    } else {
        if (Test-Path -LiteralPath $dest) { Log "replacing ${dest}: it does not match the pinned sha256 $($w.Sha)" }
        if ($missing -notcontains $w.Sdk) { $missing += $w.Sdk }
    }
}

# --- fetch, verify, then move into place (only what is missing) ---
if ($missing.Count -gt 0) {
    if (-not (Get-Command npm -ErrorAction SilentlyContinue)) { Fail "npm is not installed: install Node.js (https://nodejs.org, or 'winget install OpenJS.NodeJS.LTS'), then rerun $PSCommandPath" }
    if (-not (Get-Command tar.exe -ErrorAction SilentlyContinue)) { Fail "tar.exe is missing (it ships with Windows 10 1803 and later)" }
    $work = Join-Path ([IO.Path]::GetTempPath()) ("cordon-setup-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $work | Out-Null  # under the user's own %TEMP%
    try {
        foreach ($v in $missing) {
            $release = $releases | Where-Object { $_.Sdk -eq $v } | Select-Object -First 1
            $dir = Join-Path $work $v
            New-Item -ItemType Directory -Path $dir | Out-Null
            Log "fetching @microsoft/mxc-sdk@$v with npm pack"
            Push-Location $dir
            # Native programs' stderr must not become terminating errors (Windows PowerShell 5.1 with 'Stop').
            $ErrorActionPreference = 'Continue'
            try { & npm pack "@microsoft/mxc-sdk@$v" --silent 2>&1 | Out-Null; $npmExit = $LASTEXITCODE }
            finally { Pop-Location; $ErrorActionPreference = 'Stop' }
            $tgz = Join-Path $dir "microsoft-mxc-sdk-$v.tgz"
            if ($npmExit -ne 0 -or -not (Test-Path -LiteralPath $tgz)) { Fail "npm pack @microsoft/mxc-sdk@$v failed (network or registry problem?); fix it and rerun $PSCommandPath" }
            if (-not (Test-Pinned $tgz $release.Sha $release.Size)) { Fail "the downloaded package does not match its pin: sha256 $(Get-Sha256 $tgz) (expected $($release.Sha)); refusing it" }
            foreach ($w in ($wanted | Where-Object { $_.Sdk -eq $v })) {
                $member = "package/bin/$($w.Arch)/$($w.File)"
                $ErrorActionPreference = 'Continue'
                & tar.exe -xzf $tgz -C $dir $member 2>&1 | Out-Null
                $tarExit = $LASTEXITCODE
                $ErrorActionPreference = 'Stop'
                $got = Join-Path $dir ($member -replace '/', '\')
                if ($tarExit -ne 0 -or -not (Test-Path -LiteralPath $got)) { Fail "the SDK $v package has no $member" }
                # The check that matters: the executor's own digest, before it goes anywhere it could be run from.
                if (-not (Test-Pinned $got $w.Sha $w.Size)) { Fail "$member of SDK $v does not match its pin: sha256 $(Get-Sha256 $got) (expected $($w.Sha)); refusing it" }
                $destDir = Join-Path $cacheRoot "$v\bin\$($w.Arch)"
                New-Item -ItemType Directory -Force -Path $destDir | Out-Null
                $staged = Join-Path $destDir ".$($w.File).$PID.tmp"
                Copy-Item -LiteralPath $got -Destination $staged -Force
                if (-not (Test-Pinned $staged $w.Sha $w.Size)) { Remove-Item -LiteralPath $staged -Force; Fail "copy of $($w.File) into $destDir was altered" }
                Move-Item -LiteralPath $staged -Destination (Join-Path $destDir $w.File) -Force
                Log "installed: $(Join-Path $destDir $w.File) (SDK $v, sha256 $($w.Sha))"
            }
        }
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

$binDir = Join-Path $cacheRoot "$($Sdk[0])\bin"
$env:MXC_BIN_DIR = $binDir
if (-not $NoPersist) { [Environment]::SetEnvironmentVariable('MXC_BIN_DIR', $binDir, 'User') }
if ($PrintEnv) {
    "`$env:MXC_BIN_DIR = '$($binDir -replace "'", "''")'"
} else {
    Log "done. Executors verified under $cacheRoot; MXC_BIN_DIR=$binDir$(if (-not $NoPersist) { ' (also stored for your user)' })"
}
exit 0
