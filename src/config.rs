//! `config/parley.toml`: every setting, with defaults, so that a missing key or a
//! missing file still gives a working parley. Unknown keys are errors: a misspelt
//! setting should not be silently ignored.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub engine: EngineConfig,
}

/// How the engine decides between answering and abstaining.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Answers with a confidence below this are withheld (0..1).
    pub answer_threshold: f64,
    /// When the two best facts score closer than this, parley cannot tell which one is
    /// meant and abstains, suggesting both.
    pub ambiguity_margin: f64,
    /// Facts that match at least this well are offered as suggestions when parley
    /// abstains (0..1).
    pub suggestion_floor: f64,
    /// At most this many suggestions.
    pub max_suggestions: usize,
    /// Questions longer than this (in characters) are refused as too long.
    pub max_question_chars: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            answer_threshold: 0.5,
            ambiguity_margin: 0.01,
            suggestion_floor: 0.3,
            max_suggestions: 3,
            max_question_chars: 1000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads the config file. A missing file is an error only when `required` (the
    /// user named it); otherwise the defaults apply.
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Config::default());
            }
            Err(source) => {
                return Err(ConfigError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate().map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let e = &self.engine;
        for (name, value) in [
            ("engine.answer_threshold", e.answer_threshold),
            ("engine.ambiguity_margin", e.ambiguity_margin),
            ("engine.suggestion_floor", e.suggestion_floor),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} must be between 0 and 1, not {value}"));
            }
        }
        if e.max_question_chars == 0 {
            return Err("engine.max_question_chars must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_config_is_valid_and_complete() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/parley.toml");
        let config = Config::load(&path, true).unwrap();
        assert!(config.engine.answer_threshold > 0.0);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(toml::from_str::<Config>("[engine]\nanswer_treshold = 0.5").is_err());
        let c: Config = toml::from_str("[engine]\nanswer_threshold = 1.5").unwrap();
        assert!(c.validate().is_err());
    }
}
