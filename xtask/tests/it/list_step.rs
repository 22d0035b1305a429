//! The list step's own logic against a fake `docker` that answers like a registry (a small
//! bash "registry" sourced by the fake): the list is made from the digests the pushes
//! reported; a tag this run pushed that another run replaces ends the run 1, named; a
//! list the registry does not hold as pushed is pushed again; two images of one Windows build
//! stop the step before anything is pushed. The real registry's side is in `lists_e2e.rs`.

use std::process::Output;

use crate::support::*;

/// Answers `buildx imagetools inspect` and `create` from files in $FAKE_STATE:
/// - `TAGSUFFIX.k`: the number whose digest the per-version tag holds; with `TAGSUFFIX.moves`
///   `once` it holds k+1 from the second query on, with `every` k+n at the n-th query;
/// - configs: os.version 10.0.17763.1 for k < 2000, else 10.0.20348.1;
/// - `create` stores its sources as the list (without os.version once, when `drop-once`
///   exists); `--raw LIST` answers it.
const HOOK: &str = r##"
st=$FAKE_STATE
digest() { printf 'sha256:%064x' "$1"; }
if [[ "$1 $2 $3" == "buildx imagetools inspect" && "$4 $5" == "--format {{json .Manifest}}" && "$6" == *@sha256:* ]]; then
  # An image by digest (the one this run pushed) is what it is.
  printf '{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"%s","size":%d,"layers":[]}\n' "${6##*@}" 500
  exit 0
fi
if [[ "$1 $2 $3" == "buildx imagetools inspect" && "$4 $5" == "--format {{json .Manifest}}" && -f "$st/${6##*:}.pushed" ]]; then
  printf '{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":%d}\n' "$(cat "$st/${6##*:}.pushed")" 300
  exit 0
fi
if [[ " $* " == *" push "* ]]; then
  # A node push sends what the tag holds then (before any move).
  t=${@: -1}; t=${t##*:}
  echo "$t: digest: $(digest "$(cat "$st/$t.k")") size: 500"
  exit 0
fi
if [[ "$1 $2 $3" == "buildx imagetools inspect" && "$4 $5" == "--format {{json .Manifest}}" ]]; then
  t=${6##*:}
  n=$(( $(cat "$st/$t.n" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$st/$t.n"
  k=$(cat "$st/$t.k")
  case "$(cat "$st/$t.moves" 2>/dev/null)" in
    once) (( n > 1 )) && k=$((k + 1)) ;;
    every) k=$((k + n)) ;;
  esac
  printf '{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"%s","size":%d,"layers":[]}\n' "$(digest "$k")" 500
  exit 0
fi
if [[ "$1 $2 $3" == "buildx imagetools inspect" && "$4 $5" == "--format {{json .Image}}" ]]; then
  hex=${6##*sha256:}; k=$((16#${hex: -15}))
  if (( k < 2000 )); then v=10.0.17763.1; else v=10.0.20348.1; fi
  printf '{"os":"windows","architecture":"amd64","os.version":"%s"}\n' "$v"
  exit 0
fi
if [[ "$1 $2 $3 $4" == "buildx imagetools inspect --raw" ]]; then
  [[ -f "$st/list.json" ]] || { echo "ERROR: $5: not found" >&2; exit 1; }
  cat "$st/list.json"; exit 0
fi
if [[ "$1 $2 $3" == "buildx imagetools create" ]]; then
  shift 5
  body=$(IFS=,; echo "$*")
  if [[ -f "$st/drop-once" ]]; then rm "$st/drop-once"; body=${body//,\"os.version\":\"10.0.17763.1\"/}; fi
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}\n' "$body" > "$st/list.json"
  sum=$(sha256sum < "$st/list.json"); sum=sha256:${sum%% *}
  echo "$sum" > "$st/1.0.pushed"
  echo "#1 0.000 pushing $sum to 127.0.0.1:5000/e2e/alpha:1.0" >&2
  exit 0
fi
"##;

struct Fake {
    w: World,
}

impl Fake {
    /// alpha 1.0 over 1809 (k=1000) and ltsc2022 (k=2000) unless told otherwise.
    fn new(tag: &str, k1809: u32, k2022: u32) -> Fake {
        let w = World::new(tag);
        w.image("alpha", "1.0");
        write(&w.root().join("hook.sh"), HOOK);
        let st = w.root().join("state");
        write(&st.join("1.0-windows-amd64-1809.k"), &k1809.to_string());
        write(&st.join("1.0-windows-amd64-ltsc2022.k"), &k2022.to_string());
        Fake { w }
    }

    fn state(&self, name: &str, text: &str) {
        write(&self.w.root().join("state").join(name), text);
    }

    fn push(&self) -> Output {
        let mut c = self.w.xtask();
        c.args(["push", "alpha"])
            .env("REGISTRY", "127.0.0.1:5000/e2e")
            .env("REMOTE_DOCKER_URL", "tcp://winbuild:2376")
            .env("OS_VERSIONS", "1809 ltsc2022")
            .env("REMOTE_DOCKER_URL_ltsc2022", "tcp://win2022:2376")
            .env("FAKE_DOCKER_HOOK", self.w.root().join("hook.sh"))
            .env("FAKE_STATE", self.w.root().join("state"))
            .env("RETRIES", "0");
        run(&mut c)
    }

    fn creates(&self) -> Vec<Vec<String>> {
        self.w
            .calls()
            .into_iter()
            .filter(|c| c.len() > 3 && c[..3] == ["buildx", "imagetools", "create"])
            .collect()
    }

    fn list(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.w.root().join("state/list.json")).expect("list");
        serde_json::from_str(&text).expect("list JSON")
    }
}

fn digest(k: u32) -> String {
    format!("sha256:{k:064x}")
}

#[test]
fn the_list_is_pushed_from_descriptors_and_checked() {
    let f = Fake::new("list-ok", 1000, 2000);
    let o = f.push();
    assert!(o.status.success(), "{}", stderr(&o));
    let creates = f.creates();
    assert_eq!(creates.len(), 1, "{creates:?}");
    assert_eq!(creates[0][3..5], ["-t", "127.0.0.1:5000/e2e/alpha:1.0"]);
    let src: serde_json::Value = serde_json::from_str(&creates[0][5]).expect("source JSON");
    assert_eq!(src["digest"], digest(1000));
    assert_eq!(src["size"], 500);
    assert_eq!(src["platform"]["os.version"], "10.0.17763.1");
    assert_eq!(f.list()["manifests"][1]["digest"], digest(2000));
    assert!(stderr(&o).contains("(checked)"), "{}", stderr(&o));
    // No `docker manifest` and nothing that looks like an error on a green run.
    assert!(!f.w.calls().iter().any(|c| c[0] == "manifest"));
    assert!(
        !stderr(&o).to_lowercase().contains("error"),
        "{}",
        stderr(&o)
    );
}

/// Issue 19 §1: a per-version tag this run pushed that another run replaces after the list
/// step read it back is caught by the read-back before exit 0 (before: exit 0 with a list over
/// another run's image, the list pushed again from whatever the tag held).
#[test]
fn a_tag_this_run_pushed_that_another_run_replaces_ends_the_run_naming_it() {
    let f = Fake::new("list-moved", 1000, 2000);
    f.state("1.0-windows-amd64-1809.moves", "once");
    let o = f.push();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(f.creates().len(), 1, "{err}");
    // The list holds what this run pushed, never what the tag held later.
    assert_eq!(f.list()["manifests"][0]["digest"], digest(1000));
    assert!(
        err.contains(&format!(
            "another run replaced 1 of the 3 tags this run pushed: 127.0.0.1:5000/e2e/alpha:1.0-windows-amd64-1809 holds {} now (this run pushed {})",
            digest(1001),
            digest(1000)
        )),
        "{err}"
    );
    assert!(err.trim_end().ends_with("xtask: exit 1 (failed)"), "{err}");
}

/// A tag this run pushed that moves while the list is pushed ends the list step at once,
/// named: pushing the list again cannot make the tag this run's image (before: pushed three
/// times over whatever the tag held).
#[test]
fn a_tag_this_run_pushed_that_moves_while_its_list_is_pushed_ends_the_step() {
    let f = Fake::new("list-moving", 1000, 2000);
    f.state("1.0-windows-amd64-ltsc2022.moves", "every");
    let o = f.push();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(f.creates().len(), 1, "{err}");
    assert!(
        err.contains(
            "another run replaced what this run pushed while its list 127.0.0.1:5000/e2e/alpha:1.0 was pushed: 127.0.0.1:5000/e2e/alpha:1.0-windows-amd64-ltsc2022 (now"
        ),
        "{err}"
    );
}

#[test]
fn a_list_the_registry_does_not_hold_as_pushed_is_pushed_again() {
    let f = Fake::new("list-dropped", 1000, 2000);
    f.state("drop-once", "");
    let o = f.push();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(f.creates().len(), 2, "{err}");
    assert!(err.contains("lacks os.version"), "{err}");
    assert_eq!(
        f.list()["manifests"][0]["platform"]["os.version"],
        "10.0.17763.1"
    );
}

#[test]
fn two_images_of_one_windows_build_stop_the_step_before_any_push() {
    // The ltsc2022 node built a 17763 image (k < 2000): a wrong node, or a wrong base.
    let f = Fake::new("list-twins", 1000, 1500);
    let o = f.push();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(f.creates().is_empty(), "{err}");
    assert!(
        err.contains("not pushing 127.0.0.1:5000/e2e/alpha:1.0")
            && err.contains("both carry Windows build 17763")
            && err.contains("not release ltsc2022's build 20348"),
        "{err}"
    );
}
