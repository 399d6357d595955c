`default_nettype none

// The ivshmem endpoint (hw/endpoints/ivshmem.yaml, through the generated ivshmem_ep_pkg;
// IvshmemEndpointModel in the model): PCI configuration space with the MSI-X capability, BAR0 (the
// ivshmem registers: IntrMask, IntrStatus, IVPosition, Doorbell), BAR1 (MSI-X table and PBA), BAR2
// (the shared memory, one to one onto backing memory through the memory master), the firmware CSR
// port and the MSI output. A doorbell write becomes a DOORBELL event for firmware, which routes it
// to the peer; firmware's msix_trigger sends the vector while MSI-X is on and sets IntrStatus to 1
// while it is off, as QEMU does. IVPosition reads iv_position_i, the peer id the platform assigns.
// hw/rtl/endpoint/README.md has the port contract.
module ivshmem_endpoint_top #(
  parameter bit EMULATE_HEADER = 1'b1,  // 0: vendor hard IP owns the type-0 header; cfg_ reads the capabilities
  parameter int unsigned CfgAw  = 12,
  parameter int unsigned Bar0Aw = ivshmem_ep_pkg::BAR0_AW,
  parameter int unsigned Bar1Aw = ivshmem_ep_pkg::BAR1_AW,
  parameter int unsigned Bar2Aw = ivshmem_ep_pkg::BAR2_AW,
  parameter int unsigned FwAw   = 12
) (
  input  wire logic          clk_i,
  input  wire logic          rst_ni,
  // AXI4-Lite slave cfg_*
  input  wire logic [CfgAw-1:0] cfg_awaddr_i,
  input  wire logic          cfg_awvalid_i,
  output logic               cfg_awready_o,
  input  wire logic [31:0]   cfg_wdata_i,
  input  wire logic [3:0]    cfg_wstrb_i,
  input  wire logic          cfg_wvalid_i,
  output logic               cfg_wready_o,
  output logic [1:0]         cfg_bresp_o,
  output logic               cfg_bvalid_o,
  input  wire logic          cfg_bready_i,
  input  wire logic [CfgAw-1:0] cfg_araddr_i,
  input  wire logic          cfg_arvalid_i,
  output logic               cfg_arready_o,
  output logic [31:0]        cfg_rdata_o,
  output logic [1:0]         cfg_rresp_o,
  output logic               cfg_rvalid_o,
  input  wire logic          cfg_rready_i,
  // AXI4-Lite slave bar0_*
  input  wire logic [Bar0Aw-1:0] bar0_awaddr_i,
  input  wire logic          bar0_awvalid_i,
  output logic               bar0_awready_o,
  input  wire logic [31:0]   bar0_wdata_i,
  input  wire logic [3:0]    bar0_wstrb_i,
  input  wire logic          bar0_wvalid_i,
  output logic               bar0_wready_o,
  output logic [1:0]         bar0_bresp_o,
  output logic               bar0_bvalid_o,
  input  wire logic          bar0_bready_i,
  input  wire logic [Bar0Aw-1:0] bar0_araddr_i,
  input  wire logic          bar0_arvalid_i,
  output logic               bar0_arready_o,
  output logic [31:0]        bar0_rdata_o,
  output logic [1:0]         bar0_rresp_o,
  output logic               bar0_rvalid_o,
  input  wire logic          bar0_rready_i,
  // AXI4-Lite slave bar1_*
  input  wire logic [Bar1Aw-1:0] bar1_awaddr_i,
  input  wire logic          bar1_awvalid_i,
  output logic               bar1_awready_o,
  input  wire logic [31:0]   bar1_wdata_i,
  input  wire logic [3:0]    bar1_wstrb_i,
  input  wire logic          bar1_wvalid_i,
  output logic               bar1_wready_o,
  output logic [1:0]         bar1_bresp_o,
  output logic               bar1_bvalid_o,
  input  wire logic          bar1_bready_i,
  input  wire logic [Bar1Aw-1:0] bar1_araddr_i,
  input  wire logic          bar1_arvalid_i,
  output logic               bar1_arready_o,
  output logic [31:0]        bar1_rdata_o,
  output logic [1:0]         bar1_rresp_o,
  output logic               bar1_rvalid_o,
  input  wire logic          bar1_rready_i,
  // AXI4-Lite slave bar2_*
  input  wire logic [Bar2Aw-1:0] bar2_awaddr_i,
  input  wire logic          bar2_awvalid_i,
  output logic               bar2_awready_o,
  input  wire logic [31:0]   bar2_wdata_i,
  input  wire logic [3:0]    bar2_wstrb_i,
  input  wire logic          bar2_wvalid_i,
  output logic               bar2_wready_o,
  output logic [1:0]         bar2_bresp_o,
  output logic               bar2_bvalid_o,
  input  wire logic          bar2_bready_i,
  input  wire logic [Bar2Aw-1:0] bar2_araddr_i,
  input  wire logic          bar2_arvalid_i,
  output logic               bar2_arready_o,
  output logic [31:0]        bar2_rdata_o,
  output logic [1:0]         bar2_rresp_o,
  output logic               bar2_rvalid_o,
  input  wire logic          bar2_rready_i,
  // AXI4-Lite slave fw_*
  input  wire logic [FwAw-1:0] fw_awaddr_i,
  input  wire logic          fw_awvalid_i,
  output logic               fw_awready_o,
  input  wire logic [31:0]   fw_wdata_i,
  input  wire logic [3:0]    fw_wstrb_i,
  input  wire logic          fw_wvalid_i,
  output logic               fw_wready_o,
  output logic [1:0]         fw_bresp_o,
  output logic               fw_bvalid_o,
  input  wire logic          fw_bready_i,
  input  wire logic [FwAw-1:0] fw_araddr_i,
  input  wire logic          fw_arvalid_i,
  output logic               fw_arready_o,
  output logic [31:0]        fw_rdata_o,
  output logic [1:0]         fw_rresp_o,
  output logic               fw_rvalid_o,
  input  wire logic          fw_rready_i,
  // Memory master: BAR2 shared memory accesses, in backing memory
  output logic               mem_req_o,
  output logic               mem_we_o,
  output logic [63:0]        mem_addr_o,
  output logic [3:0]         mem_be_o,
  output logic [31:0]        mem_wdata_o,
  input  wire logic          mem_ack_i,
  input  wire logic [31:0]   mem_rdata_i,
  // MSI messages
  output logic               msi_valid_o,
  input  wire logic          msi_ready_i,
  output logic [63:0]        msi_addr_o,
  output logic [31:0]        msi_data_o,
  // This peer's id, as IVPosition reads it (the description's iv_position unless the platform assigns another)
  input  wire logic [31:0]   iv_position_i,
  // The firmware event FIFO is not empty
  output logic               fw_irq_o
);

  localparam int unsigned Vectors = ivshmem_ep_pkg::MSIX_VECTORS;
  localparam logic [47:0] BarAw = {8'(ivshmem_ep_pkg::BAR5_AW), 8'(ivshmem_ep_pkg::BAR4_AW), 8'(ivshmem_ep_pkg::BAR3_AW),
                                    8'(ivshmem_ep_pkg::BAR2_AW), 8'(ivshmem_ep_pkg::BAR1_AW), 8'(ivshmem_ep_pkg::BAR0_AW)};
  localparam int unsigned ReqW  = axil_pkg::AXIL_REQ_W;
  localparam int unsigned RspW  = axil_pkg::AXIL_RSP_W;

  // Structure windows inside the BARs (the description places each in one BAR).
  function automatic in_window(input [63:0] addr, input [63:0] offset, input [63:0] length);
    in_window = addr >= offset && addr - offset < length;
  endfunction

  // ---- the flat ports as AXI4-Lite structs ----

  axil_pkg::axil_req_t cfg_req, bar0_req, bar1_req, bar2_req, fw_req;
  axil_pkg::axil_rsp_t cfg_rsp, bar0_rsp, bar1_rsp, bar2_rsp, fw_rsp;
  `AXIL_FLAT_SLAVE(cfg_, cfg_req, cfg_rsp)
  `AXIL_FLAT_SLAVE(bar0_, bar0_req, bar0_rsp)
  `AXIL_FLAT_SLAVE(bar1_, bar1_req, bar1_rsp)
  `AXIL_FLAT_SLAVE(bar2_, bar2_req, bar2_rsp)
  `AXIL_FLAT_SLAVE(fw_, fw_req, fw_rsp)

  logic [6*ReqW-1:0] bar_req, dev_req;
  logic [6*RspW-1:0] bar_rsp, dev_rsp;
  assign bar_req  = {{(3*ReqW){1'b0}}, bar2_req, bar1_req, bar0_req};
  assign bar0_rsp = bar_rsp[RspW*0+:RspW];
  assign bar1_rsp = bar_rsp[RspW*1+:RspW];
  assign bar2_rsp = bar_rsp[RspW*2+:RspW];

  // ---- the PCI function: configuration space, MSI-X (BAR1), the firmware CSR port ----

  axil_pkg::axil_req_t bar0_dev_req, bar2_dev_req;
  axil_pkg::axil_rsp_t bar0_dev_rsp, bar2_dev_rsp;
  fw_csr_reg_pkg::fw_csr_reg2hw_t fw_csr_reg2hw;
  fw_csr_reg_pkg::fw_csr_hw2reg_t fw_csr_hw2reg;
  ivshmem_reg_pkg::ivshmem_reg2hw_t ivshmem_reg2hw;
  ivshmem_reg_pkg::ivshmem_hw2reg_t ivshmem_hw2reg;
  logic        intx_pending, msix_on_q, fw_trigger_q;  // msix_on_q: MSI-X enabled
  logic        msix_trigger;
  logic [15:0] msix_vector;
  logic        evt_push, evt_grant;
  logic [7:0]  evt_kind;
  logic [31:0] evt_data;

  ep_pci_function #(
    .EmulateHeader    (EMULATE_HEADER),
    .CfgAw            (CfgAw),
    .FwAw             (FwAw),
    .VendorId         (ivshmem_ep_pkg::VENDOR_ID),
    .DeviceId         (ivshmem_ep_pkg::DEVICE_ID),
    .RevisionId       (ivshmem_ep_pkg::REVISION_ID),
    .BaseClass        (ivshmem_ep_pkg::BASE_CLASS),
    .Subclass         (ivshmem_ep_pkg::SUBCLASS),
    .ProgIf           (ivshmem_ep_pkg::PROG_IF),
    .SubsystemVendorId(ivshmem_ep_pkg::SUBSYSTEM_VENDOR_ID),
    .SubsystemId      (ivshmem_ep_pkg::SUBSYSTEM_ID),
    .CapPtr           (ivshmem_ep_pkg::CAP_PTR),
    .BarAw            (BarAw),
    .BarWmask         (ivshmem_ep_pkg::BAR_WMASK),
    .BarType          (ivshmem_ep_pkg::BAR_TYPE),
    .CapRom           (ivshmem_ep_pkg::CAP_ROM),
    .MsixCapOffset    (ivshmem_ep_pkg::MSIX_CAP_OFFSET),
    .PciCfgCapOffset  (ivshmem_ep_pkg::PCI_CFG_CAP_OFFSET),
    .MsixVectors      (Vectors),
    .MsixBar          (ivshmem_ep_pkg::MSIX_TABLE_BAR),
    .MsixTableOffset  (ivshmem_ep_pkg::MSIX_TABLE_OFFSET),
    .MsixPbaOffset    (ivshmem_ep_pkg::MSIX_PBA_OFFSET),
    .EventDepth       (ivshmem_ep_pkg::EVENT_FIFO_DEPTH),
    .NP               (1),
    .VirtioDeviceId   (ivshmem_ep_pkg::VIRTIO_DEVICE_ID),
    .Queues           (ivshmem_ep_pkg::QUEUES),
    .ChunkSlots       (0)
  ) u_fn (
    .clk_i             (clk_i),
    .rst_ni            (rst_ni),
    .cfg_req_i         (cfg_req),
    .cfg_rsp_o         (cfg_rsp),
    .bar_req_i         (bar_req),
    .bar_rsp_o         (bar_rsp),
    .fw_req_i          (fw_req),
    .fw_rsp_o          (fw_rsp),
    .dev_req_o         (dev_req),
    .dev_rsp_i         (dev_rsp),
    .intx_i            (intx_pending),
    .msix_trigger_i    (msix_trigger),
    .msix_vector_i     (msix_vector),
    .msix_cfg_trigger_i(1'b0),
    .msix_cfg_vector_i (16'h0),
    .msix_clear_i      (1'b0),
    .msix_enable_o     (msix_on_q),
    .bus_master_o      (),
    .fw_reg2hw_o       (fw_csr_reg2hw),
    .fw_hw2reg_i       (fw_csr_hw2reg),
    .fw_trigger_o      (fw_trigger_q),
    .push_i            (evt_push),
    .push_kind_i       (evt_kind),
    .push_data_i       (evt_data),
    .push_grant_o      (evt_grant),
    .fw_irq_o          (fw_irq_o),
    .msi_valid_o       (msi_valid_o),
    .msi_ready_i       (msi_ready_i),
    .msi_addr_o        (msi_addr_o),
    .msi_data_o        (msi_data_o)
  );
  assign bar0_dev_req = dev_req[ReqW*0+:ReqW];
  assign bar2_dev_req = dev_req[ReqW*2+:ReqW];
  always_comb begin
    dev_rsp = '0;
    dev_rsp[RspW*0+:RspW] = bar0_dev_rsp;
    dev_rsp[RspW*2+:RspW] = bar2_dev_rsp;
  end

  // An unmasked IntrStatus bit: the legacy interrupt's level (INTx while MSI-X is off).
  assign intx_pending = |(ivshmem_reg2hw.intr_status.intr_status.q & ivshmem_reg2hw.intr_mask.intr_mask.q);

  logic [Bar0Aw-1:0] bar0_dec_addr, bar0_m_addr;
  logic              bar0_dec_we;
  logic [0:0]        bar0_dec_sel;
  logic [31:0]       bar0_m_wdata;
  logic [3:0]        bar0_m_wstrb;
  logic [0:0]        bar0_m_awvalid, bar0_m_awready, bar0_m_wvalid, bar0_m_wready;
  logic [0:0]        bar0_m_bvalid, bar0_m_bready, bar0_m_arvalid, bar0_m_arready;
  logic [31:0]       bar0_m_rdata;
  logic [0:0]        bar0_m_rvalid, bar0_m_rready;
  logic              bar0_loc_req, bar0_loc_ack;
  logic [31:0]       bar0_loc_rdata;

  ep_axil_demux #(.N(1), .AW(Bar0Aw)) u_bar0_demux (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .s_req_i    (bar0_dev_req),
    .s_rsp_o    (bar0_dev_rsp),
    .dec_addr_o (bar0_dec_addr),
    .dec_we_o   (bar0_dec_we),
    .dec_sel_i  (bar0_dec_sel),
    .m_addr_o   (bar0_m_addr),
    .m_wdata_o  (bar0_m_wdata),
    .m_wstrb_o  (bar0_m_wstrb),
    .m_awvalid_o(bar0_m_awvalid),
    .m_awready_i(bar0_m_awready),
    .m_wvalid_o (bar0_m_wvalid),
    .m_wready_i (bar0_m_wready),
    .m_bvalid_i (bar0_m_bvalid),
    .m_bready_o (bar0_m_bready),
    .m_arvalid_o(bar0_m_arvalid),
    .m_arready_i(bar0_m_arready),
    .m_rdata_i  (bar0_m_rdata),
    .m_rvalid_i (bar0_m_rvalid),
    .m_rready_o (bar0_m_rready),
    .loc_req_o  (bar0_loc_req),
    .loc_ack_i  (bar0_loc_ack),
    .loc_rdata_i(bar0_loc_rdata)
  );

  // ---- BAR0: the ivshmem registers ----

  logic [63:0] bar0_addr;
  assign bar0_addr = 64'(bar0_dec_addr);
  // The register file spans the block's 16 bytes of the description's window; the rest is a hole.
  assign bar0_dec_sel[0] = in_window(bar0_addr, ivshmem_ep_pkg::IVSHMEM_OFFSET, 64'(ivshmem_reg_pkg::IVSHMEM_SIZE));
  assign bar0_loc_ack    = bar0_loc_req;
  assign bar0_loc_rdata  = 32'h0;

  ivshmem_reg_top #(.AW(Bar0Aw)) u_ivshmem (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(ivshmem_ep_pkg::IVSHMEM_OFFSET))),
    .s_axil_awvalid_i(bar0_m_awvalid[0]),
    .s_axil_awready_o(bar0_m_awready[0]),
    .s_axil_wdata_i  (bar0_m_wdata),
    .s_axil_wstrb_i  (bar0_m_wstrb),
    .s_axil_wvalid_i (bar0_m_wvalid[0]),
    .s_axil_wready_o (bar0_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (bar0_m_bvalid[0]),
    .s_axil_bready_i (bar0_m_bready[0]),
    .s_axil_araddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(ivshmem_ep_pkg::IVSHMEM_OFFSET))),
    .s_axil_arvalid_i(bar0_m_arvalid[0]),
    .s_axil_arready_o(bar0_m_arready[0]),
    .s_axil_rdata_o  (bar0_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (bar0_m_rvalid[0]),
    .s_axil_rready_i (bar0_m_rready[0]),
    .reg2hw_o        (ivshmem_reg2hw),
    .hw2reg_i        (ivshmem_hw2reg)
  );

  // Firmware triggers a doorbell's vector, or JOIN_TRIGGER for a peer that joined
  // (firmware/VirtioHw.Firmware/IvshmemSignals.cs); the device decides by its interrupt mode. The
  // seed specification: with pin interrupts a join sets IntrStatus to all-ones and a doorbell of any
  // vector ORs in bit 0 (an unread join stays visible); with MSI-X a join fires vector 0 and
  // doorbells only vectors 1..max. COMPAT_QEMU is QEMU 7.2's device: no join interrupt, IntrStatus 1
  // for a vector in range, every vector in range on MSI-X.
  logic [15:0] fw_vector;
  logic        fw_join, fw_in_range;
  assign fw_vector   = fw_csr_reg2hw.msix_trigger.vector.q;
  assign fw_join     = fw_vector == ivshmem_ep_pkg::JOIN_TRIGGER;
  assign fw_in_range = fw_vector < 16'(Vectors);
  always_comb begin
    if (ivshmem_ep_pkg::COMPAT_QEMU) begin
      msix_trigger = fw_trigger_q && !fw_join;
      msix_vector  = fw_vector;
      ivshmem_hw2reg.intr_status.intr_status.d  = 32'h1;
      ivshmem_hw2reg.intr_status.intr_status.de = fw_trigger_q && !msix_on_q && fw_in_range;
    end else begin
      msix_trigger = fw_trigger_q && (fw_join || (fw_vector != 16'h0 && fw_in_range));
      msix_vector  = fw_join ? 16'h0 : fw_vector;
      ivshmem_hw2reg.intr_status.intr_status.d  = fw_join ? 32'hffff_ffff
                                                          : ivshmem_reg2hw.intr_status.intr_status.q | 32'h1;
      ivshmem_hw2reg.intr_status.intr_status.de = fw_trigger_q && !msix_on_q;
    end
    ivshmem_hw2reg.iv_position.iv_position.d = iv_position_i;
    ivshmem_hw2reg.iv_position.iv_position.de = 1'b1;
  end

  // ---- BAR2: the shared memory, one to one onto backing memory ----

  logic [Bar2Aw-1:0] bar2_dec_addr;
  logic              bar2_dec_we;
  logic [31:0]       bar2_m_wdata;
  logic [3:0]        bar2_m_wstrb;
  logic              bar2_loc_req, bar2_loc_ack;
  logic [31:0]       bar2_loc_rdata;

  ep_axil_demux #(.N(1), .AW(Bar2Aw)) u_bar2_demux (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .s_req_i    (bar2_dev_req),
    .s_rsp_o    (bar2_dev_rsp),
    .dec_addr_o (bar2_dec_addr),
    .dec_we_o   (bar2_dec_we),
    .dec_sel_i  (1'b0),  // local targets only
    .m_addr_o   (),
    .m_wdata_o  (bar2_m_wdata),
    .m_wstrb_o  (bar2_m_wstrb),
    .m_awvalid_o(),
    .m_awready_i(1'b0),
    .m_wvalid_o (),
    .m_wready_i (1'b0),
    .m_bvalid_i (1'b0),
    .m_bready_o (),
    .m_arvalid_o(),
    .m_arready_i(1'b0),
    .m_rdata_i  (32'h0),
    .m_rvalid_i (1'b0),
    .m_rready_o (),
    .loc_req_o  (bar2_loc_req),
    .loc_ack_i  (bar2_loc_ack),
    .loc_rdata_i(bar2_loc_rdata)
  );


  logic [63:0] bar2_addr;
  logic        bar2_window;
  logic        plain_ack;
  logic [31:0] plain_rdata;
  assign bar2_addr      = 64'(bar2_dec_addr);
  assign bar2_window    = in_window(bar2_addr, ivshmem_ep_pkg::PLAIN_OFFSET, ivshmem_ep_pkg::PLAIN_LENGTH);

  // The region sits at its own BAR offset in backing memory (PlainWindow in the model).
  ep_plain_window u_plain (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .req_i      (bar2_loc_req && bar2_window),
    .we_i       (bar2_dec_we),
    .addr_i     (bar2_addr),
    .wdata_i    (bar2_m_wdata),
    .be_i       (bar2_m_wstrb),
    .ack_o      (plain_ack),
    .rdata_o    (plain_rdata),
    .mem_req_o  (mem_req_o),
    .mem_we_o   (mem_we_o),
    .mem_addr_o (mem_addr_o),
    .mem_be_o   (mem_be_o),
    .mem_wdata_o(mem_wdata_o),
    .mem_ack_i  (mem_ack_i),
    .mem_rdata_i(mem_rdata_i)
  );
  assign bar2_loc_ack   = bar2_window ? plain_ack : bar2_loc_req;
  assign bar2_loc_rdata = bar2_window ? plain_rdata : 32'h0;

  // ---- the firmware event FIFO: the doorbell ----

  // Doorbell's swmod comes with the write of its peer bytes; peer and vector are in q a clock later.
  logic doorbell_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) doorbell_q <= 1'b0;
    else doorbell_q <= ivshmem_reg2hw.doorbell.peer.swmod;
  end

  assign evt_push = doorbell_q;
  assign evt_kind = fw_csr_reg_pkg::FW_EVENT_KIND_DOORBELL;
  assign evt_data = {ivshmem_reg2hw.doorbell.peer.q, ivshmem_reg2hw.doorbell.vector.q};

  always_comb begin
    fw_csr_hw2reg = '0;  // ep_fw_port drives identity and event registers itself
    fw_csr_hw2reg.drv_features.accepted.d = '0;
    fw_csr_hw2reg.drv_features.accepted.de = 1'b0;
    fw_csr_hw2reg.device_status.status.d = '0;
    fw_csr_hw2reg.device_status.status.de = 1'b0;
    fw_csr_hw2reg.q_max_size.ack = 1'b1;
    fw_csr_hw2reg.q_max_size.rdata = '0;
    fw_csr_hw2reg.q_state.ack = 1'b1;
    fw_csr_hw2reg.q_state.rdata = '0;
    fw_csr_hw2reg.q_msix_vector.ack = 1'b1;
    fw_csr_hw2reg.q_msix_vector.rdata = '0;
    fw_csr_hw2reg.q_desc.ack = 1'b1;
    fw_csr_hw2reg.q_desc.rdata = '0;
    fw_csr_hw2reg.q_driver.ack = 1'b1;
    fw_csr_hw2reg.q_driver.rdata = '0;
    fw_csr_hw2reg.q_device.ack = 1'b1;
    fw_csr_hw2reg.q_device.rdata = '0;
  end

endmodule

`default_nettype wire
