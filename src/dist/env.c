/* Whether a launcher started this process, from the variables it sets. */
#include <stdlib.h>

#include "dist/dist.h"

int dist_launched_size(void) {
  /* Open MPI's mpirun, a PMI launcher, Slurm's srun (a step's count: an
   * sbatch script's own commands see SLURM_NTASKS but are one process). */
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v && atoi(v) > 0) return atoi(v);
  }
  return 0;
}
