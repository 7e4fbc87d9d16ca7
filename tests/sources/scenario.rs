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

    /// Adds `resource` (a Terraform state resource) to this scenario's state.
    pub fn declare(&self, resource: Value) {
        let mut state: Value =
            serde_json::from_str(&std::fs::read_to_string(self.state()).unwrap()).unwrap();
        state["resources"].as_array_mut().unwrap().push(resource);
        std::fs::write(self.state(), state.to_string()).unwrap();
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

    /// `report --format json` of this scenario's state in us-east-1, with `env`
    /// (`Moto::env` and its variations) and `extra` arguments.
    pub fn report_in(&self, env: &[(String, String)], extra: &[&str]) -> Run {
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
        driftd_with_env(&args, env)
    }

    /// `report_in` on this scenario's endpoints: a run that did not fail, and its
    /// report, valid against the schema.
    pub fn report(&self, extra: &[&str]) -> (i32, Value) {
        let run = self.report_in(&self.moto.env(), extra);
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
