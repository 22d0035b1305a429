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
/// keeps any entries it had. It writes UTF-8 without a BOM: dockerd rejects a BOM.
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
# keeps the first copy.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$here = $PSScriptRoot
$certs = '@CERTS_DIR@'
$configDir = 'C:\ProgramData\docker\config'
$config = Join-Path $configDir 'daemon.json'

New-Item -ItemType Directory -Force -Path $certs | Out-Null
foreach ($f in 'ca.pem', 'server-cert.pem', 'server-key.pem') {
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
if (Test-Path $config) {
    $raw = Get-Content -Raw -Path $config
    if ([string]::IsNullOrWhiteSpace($raw)) {
        $merged = New-Object PSObject
    } else {
        $merged = $raw | ConvertFrom-Json
    }
    # The first run's copy is the node's own config: a second run must not replace it with
    # the config the first run wrote.
    $backup = "$config.before-xtask-tls"
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
        # keep the hosts the node already listens on, add ours
        $value = @(@($old.Value) + @($p.Value) | Select-Object -Unique)
    }
    $merged | Add-Member -Force -NotePropertyName $p.Name -NotePropertyValue $value
}
$json = $merged | ConvertTo-Json -Depth 20
[System.IO.File]::WriteAllText($config, $json, (New-Object System.Text.UTF8Encoding $false))
Write-Host "wrote $config (tlsverify on tcp://0.0.0.0:2376, certs from $certs)"

try {
    Restart-Service -Name docker
} catch {
    # The usual cause: the service was registered with -H/--tls* flags, which dockerd
    # refuses to combine with the same settings in daemon.json.
    Write-Host "the docker service did not restart: $_"
    Write-Host "if it was registered with -H or --tls flags, remove them (sc.exe qc docker shows them), or restore $config from its copy"
    throw
}
Write-Host "restarted the docker service"

$rule = 'docker-tls-2376'
if (Get-NetFirewallRule -Name $rule -ErrorAction SilentlyContinue) {
    Write-Host "firewall rule $rule already there (TCP 2376 in)"
} else {
    New-NetFirewallRule -Name $rule -DisplayName 'Docker TLS (TCP 2376)' -Direction Inbound `
        -Protocol TCP -LocalPort 2376 -Action Allow | Out-Null
    Write-Host "opened TCP 2376 in the firewall (rule $rule)"
}
Write-Host 'done: on the build machine use REMOTE_DOCKER_URL=tcp://@SERVER_NAME@:2376 and the client folder as DOCKER_CERT_PATH, then run: cargo xtask doctor'
"#;
