// The vDSO image (kernel/vdso/user, built by kernel/vdso/vdso.cmake), embedded whole and page
// aligned so that its frames can be mapped into programs as they are.

.section .rodata.vdso, "a"
    .balign 4096
    .globl vdso_image_start
vdso_image_start:
    .incbin PHX_VDSO_IMAGE
    .balign 4096
    .globl vdso_image_end
vdso_image_end:
