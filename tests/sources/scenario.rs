//! The five-group ECS chain of DESIGN.md seeded into a real local AWS endpoint (moto)
//! with its matching Terraform state, each incident's drift applied, and driftd run
//! against it as a user would.

use crate::support::cli::*;
use crate::support::moto::Moto;
use serde_json::Value;

pub struct Scenario {
    pub moto: Moto,
    pub dir: tempfile::TempDir,
    pub seed: Value,
}

impl Scenario {
    pub fn new(drift: &[&str]) -> Scenario {
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        let mut args = Vec::new();
        for d in drift {
            args.extend(["--drift", d]);
        }
        let seed = moto.seed_chain(&dir.path().join("chain.tfstate"), &args);
        Scenario { moto, dir, seed }
    }

    pub fn state(&self) -> String {
        self.dir.path().join("chain.tfstate").display().to_string()
    }

    pub fn group(&self, name: &str) -> String {
        self.seed["groups"][name].as_str().unwrap().to_string()
    }

    pub fn rule(&self, name: &str) -> String {
        self.seed["rules"][name].as_str().unwrap().to_string()
    }

    /// `report --format json` with a config holding this scenario's state, read in
    /// us-east-1, and `extra` (`[[flow]]` tables, `[cloudtrail]`, …).
    pub fn report_with(&self, extra: &str) -> Run {
        let config = self.dir.path().join("driftd.toml");
        let text = format!(
            "[scan]\nregions = [\"us-east-1\"]\n[[terraform]]\nstate = {}\n{extra}",
            toml::Value::String(self.state())
        );
        std::fs::write(&config, text).unwrap();
        driftd_with_env(
            &[
                "report",
                "--config",
                config.to_str().unwrap(),
                "--format",
                "json",
            ],
            &self.moto.env(),
        )
    }

    pub fn report(&self, extra: &[&str]) -> (i32, Value) {
        let state = self.state();
        let mut args = vec![
            "report",
            "--state",
            &state,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ];
        args.extend(extra);
        let run = driftd_with_env(&args, &self.moto.env());
        assert_ne!(
            run.code, 1,
            "driftd failed:\n{}\n{}",
            run.stderr, run.stdout
        );
        let report = run.json();
        assert_valid_report(&report);
        (run.code, report)
    }
}
