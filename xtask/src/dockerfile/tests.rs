//! Parser, stage and expansion tests, against BuildKit's behaviour.

use super::expand::{expand, lookup};
use super::*;

/// `word` with the global ARG defaults substituted, as FROM sees it.
fn expand_global(df: &Dockerfile, word: &str) -> Option<String> {
    let scope = df.scope(&[]);
    expand(word, df.escape, &|v| lookup(&scope, v)).0
}

fn parsed(text: &str) -> Dockerfile {
    parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn summary(df: &Dockerfile) -> Vec<(usize, String, String)> {
    df.instructions
        .iter()
        .map(|i| (i.line, i.keyword.clone(), i.args.clone()))
        .collect()
}

fn windows_stages(text: &str) -> Vec<bool> {
    parsed(text)
        .stages()
        .expect("stages")
        .iter()
        .map(|s| s.windows.is_some())
        .collect()
}

#[test]
fn backslash_continuations_join_lines_and_keep_the_start_line() {
    let df = parsed("FROM scratch\nRUN a \\\n    b \\  \n c\nCOPY x y\n");
    assert_eq!(
        summary(&df),
        vec![
            (1, "FROM".into(), "scratch".into()),
            (2, "RUN".into(), "a     b  c".into()),
            (5, "COPY".into(), "x y".into()),
        ]
    );
    assert!(df.notices.is_empty());
}

#[test]
fn backtick_escape_continues_and_makes_backslash_literal() {
    let text = "# escape=`\nFROM scratch\nRUN dir C:\\ `\n  && echo `\n  done\nWORKDIR C:\\app\\\n";
    let df = parsed(text);
    assert_eq!(df.escape, '`');
    assert_eq!(
        summary(&df),
        vec![
            (2, "FROM".into(), "scratch".into()),
            (3, "RUN".into(), "dir C:\\   && echo   done".into()),
            (6, "WORKDIR".into(), "C:\\app\\".into()),
        ]
    );
    // With the default escape the same trailing backslash would continue the line.
    let df = parsed("FROM scratch\nWORKDIR C:\\app\\\nUSER x\n");
    assert_eq!(
        summary(&df)[1],
        (2, "WORKDIR".into(), "C:\\appUSER x".into())
    );
}

#[test]
fn escaped_escape_at_end_of_line_is_not_a_continuation() {
    let df = parsed("FROM scratch\nRUN echo \\\\\nUSER x\n");
    assert_eq!(summary(&df)[1], (2, "RUN".into(), "echo \\\\".into()));
    assert_eq!(summary(&df)[2].1, "USER");
}

#[test]
fn comments_and_empty_lines_inside_continuations_are_skipped() {
    let text = "FROM scratch\nRUN a \\\n# a comment \\\n    # indented comment\n\n  b\nUSER x\n";
    let df = parsed(text);
    assert_eq!(
        summary(&df),
        vec![
            (1, "FROM".into(), "scratch".into()),
            (2, "RUN".into(), "a   b".into()),
            (7, "USER".into(), "x".into()),
        ]
    );
    assert_eq!(df.notices.len(), 1, "{:?}", df.notices);
    assert_eq!(df.notices[0].line, 2);
    assert!(df.notices[0].message.contains("empty continuation"));
}

#[test]
fn comments_are_lines_starting_with_hash_after_whitespace() {
    let df = parsed("  # indented\nFROM scratch # not a comment\n\t#tab\nUSER a#b\n");
    assert_eq!(
        summary(&df),
        vec![
            (2, "FROM".into(), "scratch # not a comment".into()),
            (4, "USER".into(), "a#b".into()),
        ]
    );
    // A comment ending with the escape character does not continue.
    let df = parsed("FROM scratch\n# comment \\\nUSER x\n");
    assert_eq!(summary(&df)[1], (3, "USER".into(), "x".into()));
}

#[test]
fn directives_only_at_the_very_top() {
    let df = parsed("# syntax=docker/dockerfile:1\n#ESCAPE = `\nFROM scratch\n");
    assert_eq!(df.escape, '`');
    assert_eq!(
        df.directives,
        vec![
            Directive {
                name: "syntax".into(),
                value: "docker/dockerfile:1".into(),
                line: 1
            },
            Directive {
                name: "escape".into(),
                value: "`".into(),
                line: 2
            },
        ]
    );
    // After a comment, a blank line or an instruction it is only a comment.
    for text in [
        "# hello\n# escape=`\nFROM scratch\n",
        "\n# escape=`\nFROM scratch\n",
        "FROM scratch\n# escape=`\n",
        "# unknown=1\n# escape=`\nFROM scratch\n",
    ] {
        let df = parsed(text);
        assert_eq!(df.escape, '\\', "{text:?}");
        assert!(df.directives.iter().all(|d| d.name != "escape"), "{text:?}");
    }
}

#[test]
fn bad_directives_fail_with_their_line() {
    let e = parse("# escape=x\nFROM scratch\n").expect_err("bad escape");
    assert_eq!(e.line, 1);
    assert!(e.message.contains("invalid escape token 'x'"), "{e}");
    let e = parse("# syntax=a\n# syntax=b\nFROM scratch\n").expect_err("twice");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("only one syntax"), "{e}");
}

#[test]
fn keywords_are_case_insensitive_and_unknown_ones_fail() {
    let df = parsed("from scratch AS Base\nRun echo\nworkDIR /x\n");
    let kws: Vec<&str> = df.instructions.iter().map(|i| i.keyword.as_str()).collect();
    assert_eq!(kws, ["FROM", "RUN", "WORKDIR"]);
    let stages = df.stages().expect("stages");
    assert_eq!(stages[0].name.as_deref(), Some("base"));
    let e = parse("FROM scratch\n\nFORM x\n").expect_err("unknown");
    assert_eq!(e.line, 3);
    assert_eq!(e.message, "unknown instruction: FORM");
}

#[test]
fn empty_files_and_files_without_from_fail() {
    assert!(parse("").is_err());
    assert!(parse("# only a comment\n\n").is_err());
    let e = parsed("ARG A=1\n").stages().expect_err("no FROM");
    assert!(e.message.contains("no FROM"), "{e}");
    let e = parsed("ARG A=1\nRUN x\nFROM scratch\n")
        .stages()
        .expect_err("RUN first");
    assert_eq!(e.line, 2);
    let e = parsed("FROM a AS x\nFROM b AS X\n")
        .stages()
        .expect_err("dup");
    assert_eq!(e.line, 2);
    let e = parsed("FROM\n").stages().expect_err("no image");
    assert!(e.message.contains("without an image"), "{e}");
}

#[test]
fn continuation_at_end_of_file_is_accepted_with_a_notice() {
    let df = parsed("FROM scratch\nCOPY a b \\\n");
    assert_eq!(summary(&df)[1], (2, "COPY".into(), "a b".into()));
    assert_eq!(df.notices.len(), 1);
    assert_eq!(df.notices[0].line, 2);
}

#[test]
fn crlf_and_bom_are_handled() {
    let df = parsed("\u{feff}# escape=`\r\nFROM scratch\r\nRUN a `\r\n  b\r\n");
    assert_eq!(df.escape, '`');
    assert_eq!(summary(&df)[1], (3, "RUN".into(), "a   b".into()));
}

#[test]
fn platform_flag_in_both_forms() {
    let df = parsed(
        "FROM --platform=windows/amd64 a AS x\nFROM --platform \"windows/amd64\" b\nCOPY --link --from=x a b\n",
    );
    let p = |n: usize| df.instructions[n].flag("platform").cloned();
    assert_eq!(
        p(0),
        Some(Flag {
            name: "platform".into(),
            value: Some("windows/amd64".into()),
            separate: false
        })
    );
    let two = p(1).expect("two-word form");
    assert!(two.separate);
    assert_eq!(df.instructions[1].args, "b");
    assert_eq!(df.instructions[2].args, "a b");
    assert_eq!(
        df.instructions[2].flag("link").map(|f| f.value.clone()),
        Some(None)
    );
    let stages = df.stages().expect("stages");
    assert!(stages.iter().all(|s| s.windows.is_some()));
}

#[test]
fn stages_inherit_windows_from_their_base_stage() {
    let text = "\
FROM --platform=windows/amd64 mcr.microsoft.com/windows/nanoserver:1809 AS a
FROM A AS b
FROM b
FROM scratch
FROM --platform=linux/amd64 busybox AS c
FROM c
";
    assert_eq!(
        windows_stages(text),
        vec![true, true, true, false, false, false]
    );
    let stages = parsed(text).stages().expect("stages");
    assert_eq!(
        stages[2].windows,
        Some(Windows::Base {
            stage: "\"b\"".into()
        })
    );
    assert_eq!(stages[2].label(), "#2");
    // A name used before it is defined is an image, not the stage.
    assert_eq!(
        windows_stages("FROM x\nFROM --platform=windows/amd64 y AS x\n"),
        vec![false, true]
    );
}

#[test]
fn stage_bodies_hold_their_instructions() {
    let df = parsed(
        "ARG A\nFROM --platform=windows/amd64 a AS w\nCOPY x y\nRUN z\nFROM scratch\nRUN q\n",
    );
    let stages = df.stages().expect("stages");
    let lines =
        |s: &Stage| -> Vec<usize> { s.body.iter().map(|&n| df.instructions[n].line).collect() };
    assert_eq!(lines(&stages[0]), vec![3, 4]);
    assert_eq!(lines(&stages[1]), vec![6]);
}

#[test]
fn platform_variables_expand_with_global_arg_defaults() {
    let cases = [
        ("ARG P=windows/amd64\nFROM --platform=$P x\n", true),
        ("ARG P=windows/amd64\nFROM --platform=${P} x\n", true),
        (
            "ARG OS=windows\nARG P=${OS}/amd64\nFROM --platform=$P x\n",
            true,
        ),
        ("ARG P=\"windows/amd64\"\nFROM --platform=$P x\n", true),
        ("ARG P\nFROM --platform=$P x\n", false),
        ("FROM --platform=$TARGETPLATFORM x\n", false),
        ("FROM --platform=$BUILDPLATFORM x\n", false),
        ("FROM --platform=$UNDECLARED x\n", false),
        (
            "ARG TARGETPLATFORM=windows/amd64\nFROM --platform=$TARGETPLATFORM x\n",
            true,
        ),
        ("ARG P\nFROM --platform=${P:-windows/amd64} x\n", false),
        ("FROM --platform=${NOPE:-windows/amd64} x\n", true),
        ("FROM x\nARG P=windows/amd64\nFROM --platform=$P y\n", false),
        ("FROM --platform=Windows/AMD64 x\n", true),
        ("FROM --platform=windowsfoo/amd64 x\n", false),
    ];
    for (text, windows) in cases {
        let got = windows_stages(text);
        assert_eq!(*got.last().expect("a stage"), windows, "{text}");
    }
}

#[test]
fn stage_references_expand_too() {
    let text = "ARG BASE=w\nFROM --platform=windows/amd64 x AS w\nFROM ${BASE}\n";
    assert_eq!(windows_stages(text), vec![true, true]);
}

#[test]
fn expansion_rules() {
    let vars = |n: &str| match n {
        "A" => Some("1".to_string()),
        "E" => Some(String::new()),
        _ => None,
    };
    let x = |w: &str| expand(w, '\\', &vars).0;
    assert_eq!(x("a$A-${A}b"), Some("a1-1b".into()));
    assert_eq!(x("${E:-d}|${A:-d}|${A:+p}|${E:+p}"), Some("d|1|p|".into()));
    assert_eq!(x("'$A'\"$A\""), Some("$A1".into()));
    assert_eq!(x("\\$A"), Some("$A".into()));
    assert_eq!(x("$U"), None);
    assert_eq!(x("${U:-x}"), None);
    assert_eq!(x("${A"), None);
    assert_eq!(x("cost: 5$"), Some("cost: 5$".into()));
    // The backtick escape leaves backslashes alone.
    assert_eq!(expand("C:\\x\\$A", '`', &vars).0, Some("C:\\x\\1".into()));
    assert!(uses_variable("${SOURCE}", "SOURCE", '\\'));
    assert!(uses_variable("$SOURCE", "SOURCE", '\\'));
    assert!(uses_variable("${X:-$SOURCE}", "SOURCE", '\\'));
    assert!(!uses_variable("$SOURCES", "SOURCE", '\\'));
    assert!(!uses_variable("\\$SOURCE", "SOURCE", '\\'));
    assert!(!uses_variable("SOURCE", "SOURCE", '\\'));
}

#[test]
fn heredocs_are_skipped() {
    let text = "FROM scratch\nRUN <<EOF cat <<-'END'\nnot an instruction\nEOF\n\tFROM neither\n\tEND\nUSER x\n";
    let df = parsed(text);
    assert_eq!(summary(&df)[2], (7, "USER".into(), "x".into()));
    let e = parse("FROM scratch\nRUN <<EOF\necho\n").expect_err("unterminated");
    assert_eq!(e.line, 2);
    // A quoted "<<EOF" is an argument, and the JSON form has no heredocs.
    let df = parsed("FROM scratch\nRUN echo \"<<EOF\"\nRUN [\"a\", \"<<EOF\"]\nUSER x\n");
    assert_eq!(df.instructions.len(), 4);
}

#[test]
fn global_args() {
    let df = parsed("ARG A=1 B\nARG SOURCE\nFROM scratch\nARG C\n");
    assert!(df.declares_global_arg("SOURCE"));
    assert!(df.declares_global_arg("B"));
    assert!(!df.declares_global_arg("C"));
    assert_eq!(expand_global(&df, "$A-x"), Some("1-x".into()));
    assert_eq!(expand_global(&df, "$B"), None);
}

#[test]
fn the_repos_own_dockerfiles_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../images/powershell-helper");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("read");
    let cache = parsed(&read("Dockerfile"));
    let stages = cache.stages().expect("stages");
    assert_eq!(
        stages
            .iter()
            .map(|s| s.windows.is_some())
            .collect::<Vec<_>>(),
        vec![true, true, false]
    );
    assert_eq!(
        expand_global(&cache, &stages[0].base),
        Some("mcr.microsoft.com/windows/nanoserver:1809".into())
    );
    let windows = parsed(&read("Dockerfile_windows"));
    assert_eq!(windows.escape, '`');
    assert!(windows.notices.is_empty(), "{:?}", windows.notices);
    assert!(windows.stages().is_ok());
}
