//! This machine's own copies of new versions, written durably on a second thread while the
//! command goes on with its remote work.
//!
//! A membership change re-encrypts every head: per environment a round trip that creates
//! the version on the remote, then about eleven `fsync`s that record it here (the ledger's
//! record, head and ciphertext, the workspace's base and state). Done one after the other,
//! the disk and the remote each wait for the other. Here the local writes of one
//! environment run while the next one's version is built and sent.
//!
//! Nothing about a crash changes. The writes run in the order they were handed over, each
//! job's own writes in their usual order, so no file ever points at one not yet on disk. A
//! version already on the remote but not yet recorded here is what a crash just after the
//! remote took it has always left: the next command verifies the remote's head and records
//! it then. The command returns only once every write is on disk, with the first one that
//! failed as its error.

use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::error::{ClientError, Result};

/// One environment's local writes, in the order they must reach the disk.
type Job = Box<dyn FnOnce() -> Result<()> + Send>;

/// A writer thread that runs jobs in the order they were handed over.
pub(crate) struct WriteBehind {
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<JoinHandle<Result<()>>>,
}

impl WriteBehind {
    pub(crate) fn start() -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let worker = std::thread::spawn(move || {
            // Every job runs, as every environment's writes did when they were inline: one
            // environment's failure does not keep the next one's version from being recorded.
            let mut first_error = None;
            for job in queue {
                if let Err(error) = job() {
                    first_error.get_or_insert(error);
                }
            }
            first_error.map_or(Ok(()), Err)
        });
        Self {
            jobs: Some(jobs),
            worker: Some(worker),
        }
    }

    /// Queues `job` behind the ones before it.
    pub(crate) fn push(&self, job: impl FnOnce() -> Result<()> + Send + 'static) {
        if let Some(jobs) = &self.jobs {
            // The worker only stops once `jobs` is dropped, so the send cannot fail.
            let _ = jobs.send(Box::new(job));
        }
    }

    /// Waits until every queued job has run; the first error of any of them.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.wait()
    }

    fn wait(&mut self) -> Result<()> {
        drop(self.jobs.take());
        match self.worker.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(error))) => Err(error),
            Some(Err(_)) => Err(ClientError::io(
                "writing this machine's copies of new versions",
                std::io::Error::other("the writing thread stopped"),
            )),
        }
    }
}

impl Drop for WriteBehind {
    /// A command that returns early (an error, `?`) still leaves its queued writes on disk.
    fn drop(&mut self) {
        let _ = self.wait();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn jobs_run_in_order_and_finish_waits_for_all() {
        let done = Arc::new(Mutex::new(Vec::new()));
        let behind = WriteBehind::start();
        for index in 0..50 {
            let done = Arc::clone(&done);
            behind.push(move || {
                done.lock().unwrap().push(index);
                Ok(())
            });
        }
        behind.finish().unwrap();
        assert_eq!(*done.lock().unwrap(), (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_error_is_returned_and_later_jobs_still_run() {
        let done = Arc::new(Mutex::new(Vec::new()));
        let behind = WriteBehind::start();
        for index in 0..4 {
            let done = Arc::clone(&done);
            behind.push(move || {
                done.lock().unwrap().push(index);
                match index {
                    1 | 2 => Err(ClientError::Input(format!("job {index} failed"))),
                    _ => Ok(()),
                }
            });
        }
        let error = behind.finish().unwrap_err();
        assert_eq!(error.to_string(), "job 1 failed");
        assert_eq!(*done.lock().unwrap(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn dropping_waits_for_the_queued_jobs() {
        let done = Arc::new(Mutex::new(0));
        {
            let behind = WriteBehind::start();
            let done = Arc::clone(&done);
            behind.push(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                *done.lock().unwrap() += 1;
                Ok(())
            });
        }
        assert_eq!(*done.lock().unwrap(), 1);
    }
}
