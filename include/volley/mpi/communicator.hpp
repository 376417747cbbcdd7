#pragma once
// volley::Communicator over MPI (MPI_COMM_WORLD), for networks distributed over processes
// started by mpirun. Built when CMake finds MPI (option VOLLEY_MPI); links volley::mpi.
#include <memory>

#include "volley/communicator.hpp"

namespace volley::mpi {

// True when this process was started by an MPI launcher (mpirun, mpiexec, srun with PMI):
// the CLI initialises MPI only then, so a plain `volley sim` never needs an MPI runtime.
bool launched_by_launcher();

// Initialises MPI (threads: funnelled, the simulator calls MPI from its first thread only) for
// the lifetime of the object and finalises it at the end; one per process.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // MPI_COMM_WORLD as a volley::Communicator, valid while the session lives.
  Communicator& world();
  // Ends every process of the job (after an error on one process: the others may be waiting
  // in a collective call).
  [[noreturn]] void abort(int code);

 private:
  std::unique_ptr<Communicator> world_;
};

}  // namespace volley::mpi
