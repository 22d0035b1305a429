//! The Windows node's side of `make`: `daemon.json` as the Windows Docker daemon reads it
//! (C:\ProgramData\docker\config\daemon.json) and `install.ps1`, which puts the server
//! certs and that config in place, restarts the docker service and opens TCP 2376 — what
//! upstream's `stefanscherer/dockertls-windows` container did, as a script one can read.

/// Where the Windows daemon is told to find its certs.
pub const CERTS_DIR: &str = r"C:\ProgramData\docker\certs.d";

/// The daemon settings for mutual TLS on 2376, keeping the local named pipe so docker on
/// the node itself still works.
pub fn daemon_json() -> String {
    let v = serde_json::json!({
        "hosts": ["tcp://0.0.0.0:2376", "npipe://"],
        "tlsverify": true,
        "tlscacert": format!(r"{CERTS_DIR}\ca.pem"),
        "tlscert": format!(r"{CERTS_DIR}\server-cert.pem"),
        "tlskey": format!(r"{CERTS_DIR}\server-key.pem"),
    });
    // serde_json's pretty printer cannot fail on a Value; fall back to the compact form.
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

/// The install script. It merges rather than replaces an existing daemon.json: keys the
/// node already has (registry mirrors, data-root, …) are kept, ours win, and `hosts`
/// keeps any entries it had, compared as addresses (`0.0.0.0:2376` is `tcp://0.0.0.0:2376`,
/// `npipe://` the default pipe), so dockerd never gets one address twice. It writes UTF-8
/// without a BOM: dockerd rejects a BOM. A service that does not restart gets back the
/// daemon.json the run found (or none, as it had); a node without a docker service is told so
/// before anything changes; `-Uninstall` undoes it. No Windows here: tested as text.
pub fn install_ps1(server_name: &str) -> String {
    INSTALL_PS1
        .replace("@SERVER_NAME@", server_name)
        .replace("@CERTS_DIR@", CERTS_DIR)
}

const INSTALL_PS1: &str = r#"#Requires -RunAsAdministrator
# Written by `cargo xtask tls` for node @SERVER_NAME@. Run it on the Windows node, as
# Administrator, from the folder it came in (the node/ folder of `cargo xtask tls --out`):
#   powershell -ExecutionPolicy Bypass -File .\install.ps1
# It copies ca.pem, server-cert.pem and server-key.pem to @CERTS_DIR@, merges
# daemon.json into C:\ProgramData\docker\config\daemon.json (existing keys are kept; a copy
# of the node's own file is left next to it, once), restarts the docker service and opens
# TCP 2376 in the Windows firewall. It says what it did; running it again is harmless and
# keeps the first copy. If the service does not come back, the daemon.json it found is put
# back (or, when there was none, the one it wrote is removed) and the service restarted.
#   powershell -ExecutionPolicy Bypass -File .\install.ps1 -Uninstall
# undoes it: the node's own daemon.json back (the current one kept as a copy), the certs and
# the firewall rule removed, the service restarted.
param([switch]$Uninstall)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$here = $PSScriptRoot
$certs = '@CERTS_DIR@'
$configDir = 'C:\ProgramData\docker\config'
$config = Join-Path $configDir 'daemon.json'
$backup = "$config.before-xtask-tls"
$rule = 'docker-tls-2376'
$ourCerts = 'ca.pem', 'server-cert.pem', 'server-key.pem'

# Nothing is changed on a node without the docker service: install Docker first.
if (-not (Get-Service -Name docker -ErrorAction SilentlyContinue)) {
    Write-Host 'there is no docker service on this node: install Docker (e.g. install-docker-ce.ps1), then run this script again; nothing was changed'
    exit 1
}

# A `hosts` entry as dockerd reads it: "0.0.0.0:2376" is tcp://0.0.0.0:2376, and npipe:// is
# the default pipe npipe:////./pipe/docker_engine. Entries are compared by this, never as
# text, so a merge never makes dockerd listen twice on one address (it refuses to start).
function Get-HostKey([string]$h) {
    $k = $h.Trim().ToLowerInvariant().TrimEnd('/')
    if ($k -eq 'npipe:' -or $k -eq 'npipe://' -or $k -eq 'npipe:////./pipe/docker_engine') {
        return 'npipe:////./pipe/docker_engine'
    }
    if ($k -notmatch '^[a-z]+://') { $k = "tcp://$k" }
    return $k
}

function Merge-Hosts($old, $ours) {
    $out = New-Object System.Collections.ArrayList
    $seen = @{}
    foreach ($h in @(@($old) + @($ours))) {
        if ($null -eq $h) { continue }
        $key = Get-HostKey ([string]$h)
        if (-not $seen.ContainsKey($key)) {
            $seen[$key] = $true
            [void]$out.Add([string]$h)
        }
    }
    return , $out.ToArray()
}

function Write-Config($obj) {
    $json = $obj | ConvertTo-Json -Depth 20
    # UTF-8 without a BOM: dockerd rejects a BOM.
    [System.IO.File]::WriteAllText($config, $json, (New-Object System.Text.UTF8Encoding $false))
}

if ($Uninstall) {
    if (Test-Path -LiteralPath $config) {
        $kept = "$config.xtask-uninstalled"
        Copy-Item -Force -LiteralPath $config -Destination $kept
        Write-Host "kept the current $config as $kept"
    }
    if (Test-Path -LiteralPath $backup) {
        Move-Item -Force -LiteralPath $backup -Destination $config
        Write-Host "put back the node's own $config (from $backup)"
    } elseif (Test-Path -LiteralPath $config) {
        Remove-Item -LiteralPath $config
        Write-Host "removed $config (the node had none before install.ps1)"
    }
    foreach ($f in $ourCerts) {
        $p = Join-Path $certs $f
        if (Test-Path -LiteralPath $p) {
            Remove-Item -LiteralPath $p
            Write-Host "removed $p"
        }
    }
    if (Get-NetFirewallRule -Name $rule -ErrorAction SilentlyContinue) {
        Remove-NetFirewallRule -Name $rule
        Write-Host "removed the firewall rule $rule (TCP 2376 in)"
    }
    Restart-Service -Name docker
    Write-Host 'restarted the docker service: it no longer listens on TCP 2376 with these certs'
    exit 0
}

New-Item -ItemType Directory -Force -Path $certs | Out-Null
foreach ($f in $ourCerts) {
    Copy-Item -Force -Path (Join-Path $here $f) -Destination (Join-Path $certs $f)
    Write-Host "copied $f to $certs"
}
# The server key: readable by Administrators and SYSTEM only (the docker service); by SID,
# so it works on any display language.
$key = Join-Path $certs 'server-key.pem'
& icacls.exe $key /inheritance:r /grant:r '*S-1-5-32-544:F' '*S-1-5-18:F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls failed on $key" }
Write-Host "restricted $key to Administrators and SYSTEM"

$ours = Get-Content -Raw -Path (Join-Path $here 'daemon.json') | ConvertFrom-Json
New-Item -ItemType Directory -Force -Path $configDir | Out-Null
# What this run found, to put back if the service does not come back with the new config.
$previous = $null
if (Test-Path -LiteralPath $config) {
    $previous = Get-Content -Raw -LiteralPath $config
    if ([string]::IsNullOrWhiteSpace($previous)) {
        $merged = New-Object PSObject
    } else {
        $merged = $previous | ConvertFrom-Json
    }
    # The first run's copy is the node's own config: a second run must not replace it with
    # the config the first run wrote.
    if (Test-Path -LiteralPath $backup) {
        Write-Host "kept the existing copy $backup (made by an earlier run, not replaced)"
    } else {
        Copy-Item -LiteralPath $config -Destination $backup
        Write-Host "kept a copy of the old $config as $backup"
    }
} else {
    $merged = New-Object PSObject
}
foreach ($p in $ours.PSObject.Properties) {
    $value = $p.Value
    $old = $merged.PSObject.Properties[$p.Name]
    if ($p.Name -eq 'hosts' -and $null -ne $old) {
        # keep the hosts the node already listens on, add ours unless already there
        $value = Merge-Hosts $old.Value $p.Value
    }
    $merged | Add-Member -Force -NotePropertyName $p.Name -NotePropertyValue $value
}
Write-Config $merged
Write-Host "wrote $config (tlsverify on tcp://0.0.0.0:2376, certs from $certs)"

try {
    Restart-Service -Name docker
} catch {
    $why = $_
    Write-Host "the docker service did not restart with the new config: $why"
    if ($null -ne $previous) {
        [System.IO.File]::WriteAllText($config, $previous, (New-Object System.Text.UTF8Encoding $false))
        Write-Host "put back the daemon.json this run found, unchanged, in $config"
    } else {
        Remove-Item -LiteralPath $config
        Write-Host "removed the $config this run wrote (the node had none before)"
    }
    try {
        Start-Service -Name docker
        Write-Host "the docker service runs again, with the config it had before this run (the certs stay in $certs)"
    } catch {
        Write-Host "the docker service does not start even so: $_ (see Get-EventLog -LogName Application -Source docker)"
    }
    # The usual cause: the service was registered with -H/--tls* flags, which dockerd
    # refuses to combine with the same settings in daemon.json.
    Write-Host 'if the service was registered with -H or --tls flags (sc.exe qc docker shows them), remove them and run this script again'
    throw $why
}
Write-Host "restarted the docker service"

if (Get-NetFirewallRule -Name $rule -ErrorAction SilentlyContinue) {
    Write-Host "firewall rule $rule already there (TCP 2376 in)"
} else {
    New-NetFirewallRule -Name $rule -DisplayName 'Docker TLS (TCP 2376)' -Direction Inbound `
        -Protocol TCP -LocalPort 2376 -Action Allow | Out-Null
    Write-Host "opened TCP 2376 in the firewall (rule $rule)"
}
Write-Host 'done: on the build machine use REMOTE_DOCKER_URL=tcp://@SERVER_NAME@:2376 and the client folder as DOCKER_CERT_PATH, then run: cargo xtask doctor'
"#;
