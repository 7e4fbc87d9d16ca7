//! The code held to what describes it: imports point one way between layers
//! (`layers`), the finding codes are the contract's (`contract`), and the deployment
//! files grant and wire exactly what the code needs (`deploy`). Read from the
//! sources and documents; nothing runs.

mod contract;
mod deploy;
mod layers;
