/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmf_view.bpf.h - the fields of a struct vm_fault (and of its VMA) that do_wp_page's exit reads.
 *
 * From a BTF-typed vmf (fentry/fexit) every field is a plain load. From a kprobe's vmf, an
 * integer, each field would be a bpf_probe_read_kernel() call (eight per fault); instead the head
 * of struct vm_fault and of struct vm_area_struct are each copied with one call and the fields
 * taken out with CO-RE offsets. Where a kernel's layout puts a field past the copied head (no
 * kernel measured does), the offset test is a load-time constant and the per-field reads are used.
 */
#ifndef COWWATCH_VMF_VIEW_BPF_H
#define COWWATCH_VMF_VIEW_BPF_H

#include "compat.bpf.h"

struct cw_vmf_view {
	const struct mm_struct *mm;	/* vmf->vma->vm_mm */
	unsigned long vm_flags;		/* vmf->vma->vm_flags */
	unsigned long orig_pte;		/* vmf->orig_pte */
	unsigned long address;		/* vmf->address */
	pte_t *pte;			/* vmf->pte */
	__u32 flags;			/* vmf->flags (enum fault_flag; unsigned int before 5.19) */
};

struct cw_vmf_copy {
	__u64 w[16];
};

struct cw_vma_copy {
	__u64 w[8];
};

#define CW_HEAD_FITS(copy, type, field) (bpf_core_field_offset(type, field) + sizeof(__u64) <= sizeof(copy))
#define CW_HEAD_WORD(copy, type, field) \
	(*(const unsigned long *)((const char *)(copy) + bpf_core_field_offset(type, field)))
#define CW_HEAD_U32(copy, type, field) (*(const __u32 *)((const char *)(copy) + bpf_core_field_offset(type, field)))

static __always_inline bool cw_vmf_flags_510(void)
{
	return bpf_core_field_exists(((struct vm_fault___510 *)0)->flags);
}

/* Per-field reads: BTF loads (btf) or one probe read per hop. */
static __always_inline void cw_vmf_view_fields(const struct vm_fault *vmf, bool btf, struct cw_vmf_view *v)
{
	if (cw_vmf_flags_510())
		v->flags = CW_READ(btf, (const struct vm_fault___510 *)vmf, flags);
	else
		v->flags = CW_READ(btf, vmf, flags);
	v->orig_pte = CW_READ(btf, vmf, orig_pte.pte);
	v->address = CW_READ(btf, vmf, address);
	v->pte = CW_READ(btf, vmf, pte);
	v->mm = CW_READ(btf, vmf, vma, vm_mm);
	v->vm_flags = CW_READ(btf, vmf, vma, vm_flags);
}

static __always_inline bool cw_vmf_head_fits(void)
{
	const unsigned long vmf_size = sizeof(struct cw_vmf_copy), vma_size = sizeof(struct cw_vma_copy);

	return CW_HEAD_FITS(vmf_size, struct vm_fault, vma) && CW_HEAD_FITS(vmf_size, struct vm_fault, orig_pte) &&
	       CW_HEAD_FITS(vmf_size, struct vm_fault, address) && CW_HEAD_FITS(vmf_size, struct vm_fault, pte) &&
	       (cw_vmf_flags_510() ? CW_HEAD_FITS(vmf_size, struct vm_fault___510, flags)
				   : CW_HEAD_FITS(vmf_size, struct vm_fault, flags)) &&
	       CW_HEAD_FITS(vma_size, struct vm_area_struct, vm_mm) &&
	       CW_HEAD_FITS(vma_size, struct vm_area_struct, vm_flags);
}

/* The view of vmf into v (zeroed by the caller); fields whose read failed stay 0, as a failed
 * probe read of that field alone would leave them. */
static __always_inline void cw_vmf_view(const struct vm_fault *vmf, bool btf, struct cw_vmf_view *v)
{
	struct cw_vmf_copy head;
	struct cw_vma_copy vma_head;
	const struct vm_area_struct *vma;

	if (btf || !cw_vmf_head_fits()) {
		cw_vmf_view_fields(vmf, btf, v);
		return;
	}
	if (bpf_probe_read_kernel(&head, sizeof(head), vmf))
		return;
	if (cw_vmf_flags_510())
		v->flags = CW_HEAD_U32(&head, struct vm_fault___510, flags);
	else
		v->flags = CW_HEAD_U32(&head, struct vm_fault, flags);
	v->orig_pte = CW_HEAD_WORD(&head, struct vm_fault, orig_pte);
	v->address = CW_HEAD_WORD(&head, struct vm_fault, address);
	v->pte = (pte_t *)CW_HEAD_WORD(&head, struct vm_fault, pte);
	vma = (const struct vm_area_struct *)CW_HEAD_WORD(&head, struct vm_fault, vma);
	if (!vma || bpf_probe_read_kernel(&vma_head, sizeof(vma_head), vma))
		return;
	v->mm = (const struct mm_struct *)CW_HEAD_WORD(&vma_head, struct vm_area_struct, vm_mm);
	v->vm_flags = CW_HEAD_WORD(&vma_head, struct vm_area_struct, vm_flags);
}

#endif /* COWWATCH_VMF_VIEW_BPF_H */
