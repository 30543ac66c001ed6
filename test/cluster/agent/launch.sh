#!/bin/sh
# Container entry, run by the agent as
#   nsenter --net=/run/netns/<pod> -- unshare --mount --uts --propagation private -- launch.sh ARGS -- argv…
# so it starts inside the pod's network namespace and a private mount and UTS namespace. It joins
# the container's cgroup, sets the hostname, makes the bind mounts listed in <mounts> (lines of
# "ro|rw<TAB>source<TAB>target", parents first), changes to the working directory and execs the
# container's argv as uid:gid. Mounts made here vanish with the namespace's last process.
# Mount sources are relative to <pod dir>, the working directory while mounting, so that a mount
# over one of its ancestors cannot hide the sources still to be mounted.
# usage: launch.sh <cgroup dir> <hostname> <pod dir> <mounts file> <workdir> <uid> <gid> -- argv…
set -eu
cgroup=$1 host=$2 pod_dir=$3 mounts=$4 workdir=$5 uid=$6 gid=$7
shift 7
[ "$1" = "--" ] && shift
tools=/usr/sbin:/usr/bin:/sbin:/bin
echo $$ >"$cgroup/cgroup.procs"
PATH=$tools hostname "$host"
tab=$(printf '\t')
# Hold the working directory (the repository, for our images): a volume may cover one of its
# ancestors, e.g. an emptyDir at /tmp when the repository was cloned under /tmp.
exec 9<"$workdir"
cd "$pod_dir"
while IFS=$tab read -r mode source target; do
  PATH=$tools mount --bind "$source" "$target"
  if [ "$mode" = ro ]; then PATH=$tools mount -o remount,bind,ro "$target"; fi
done <"$mounts"
if ! [ "$workdir" -ef /proc/self/fd/9 ]; then
  # Put it back at its own path; --no-canonicalize keeps mount from resolving the fd link to the
  # covered path's name, which would now name the empty directory.
  PATH=$tools mkdir -p "$workdir"
  PATH=$tools mount --no-canonicalize --bind /proc/self/fd/9 "$workdir"
fi
exec 9<&-
cd "$workdir"
if [ "$uid" = 0 ] && [ "$gid" = 0 ]; then exec "$@"; fi
exec /usr/bin/setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
